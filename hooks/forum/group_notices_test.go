package forum_test

import (
	"errors"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"

	"salonbase/testutil"
)

// A group's join request, invitation, approval and hand-over commit with
// their notice: when the notice cannot be written (here a failing hook on
// notifications, as a full disk would fail it), nothing of the action is
// saved and the caller is told; once notices can be written again the
// same request succeeds and its notice is there.
func TestGroupNoticesCommitWithTheirAction(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	owner := testutil.CreateUser(t, app, testutil.User{})
	asker := testutil.CreateUser(t, app, testutil.User{})
	invitee := testutil.CreateUser(t, app, testutil.User{})
	ow, at := testutil.Token(t, owner), testutil.Token(t, asker)
	group := testutil.MustCreate(t, srv, testutil.GroupsURL, ow, map[string]any{"name": "Founders", "theme": "business", "visibility": "approval"})
	gid := group["id"].(string)

	var failNotices atomic.Bool
	app.OnRecordCreate("notifications").BindFunc(func(e *core.RecordEvent) error {
		if failNotices.Load() {
			return errors.New("cannot write the notice")
		}
		return e.Next()
	})
	membership := func(user *core.Record) (status, role string) {
		t.Helper()
		m, err := app.FindFirstRecordByFilter("group_members", "group = {:g} && user = {:u}", dbx.Params{"g": gid, "u": user.Id})
		if err != nil {
			return "", ""
		}
		return m.GetString("status"), m.GetString("role")
	}
	// try runs a request while notices fail (it must fail and leave
	// nothing), then again (it must succeed and leave the notice)
	try := func(what string, method, url, token string, body any, wantStatus int, to *core.Record, kind string, unchanged func() bool) {
		t.Helper()
		failNotices.Store(true)
		if status, out := srv.Do(t, method, url, token, body); status < 400 {
			t.Fatalf("%s while notices fail: %d %s", what, status, out)
		}
		if !unchanged() || testutil.NoticesOf(t, app, to, kind) != 0 {
			t.Fatalf("%s: saved in part while its notice failed", what)
		}
		failNotices.Store(false)
		testutil.WantStatus(t, srv, method, url, token, body, wantStatus, "")
		if n := testutil.NoticesOf(t, app, to, kind); n != 1 {
			t.Fatalf("%s: %d %s notices, want 1", what, n, kind)
		}
	}

	try("join request", http.MethodPost, testutil.GroupAction(gid, "/join"), at, nil, 200, owner, "group_request",
		func() bool { s, _ := membership(asker); return s == "" })
	try("approval", http.MethodPost, testutil.GroupAction(gid, "/members/"+asker.Id+"/approve"), ow, nil, 200, asker, "group_approved",
		func() bool { s, _ := membership(asker); return s == "pending" })
	try("invitation", http.MethodPost, testutil.GroupAction(gid, "/invite"), ow, map[string]any{"user": invitee.Id}, 200, invitee, "group_invite",
		func() bool { s, _ := membership(invitee); return s == "" })
	try("hand-over", http.MethodPost, testutil.GroupAction(gid, "/transfer"), ow, map[string]any{"user": asker.Id}, 200, asker, "group_owner",
		func() bool {
			_, newRole := membership(asker)
			_, oldRole := membership(owner)
			g, err := app.FindRecordById("groups", gid)
			return err == nil && g.GetString("owner") == owner.Id && newRole == "member" && oldRole == "owner"
		})
	g, err := app.FindRecordById("groups", gid)
	if err != nil || g.GetString("owner") != asker.Id {
		t.Fatalf("after the hand-over the owner is %q (%v)", g.GetString("owner"), err)
	}
}
