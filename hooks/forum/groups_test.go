package forum_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"

	"salonbase/testutil"
)

func TestGroupVisibility(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	owner := testutil.CreateUser(t, app, testutil.User{Name: "Owner"})
	member := testutil.CreateUser(t, app, testutil.User{})
	outsider := testutil.CreateUser(t, app, testutil.User{})
	admin := testutil.CreateUser(t, app, testutil.User{Role: "admin"})
	ow, mt, ot, at := testutil.Token(t, owner), testutil.Token(t, member), testutil.Token(t, outsider), testutil.Token(t, admin)

	// the outsider watches groups and forum topics live from the start
	rtOut := srv.Subscribe(t, ot, "groups", "forum_topics", "group_members")

	open := testutil.MustCreate(t, srv, testutil.GroupsURL, ow, map[string]any{"name": "Hikers", "theme": " Hobby ", "visibility": "open"})
	approval := testutil.MustCreate(t, srv, testutil.GroupsURL, ow, map[string]any{"name": "Founders", "theme": "business", "visibility": "approval"})
	secret := testutil.MustCreate(t, srv, testutil.GroupsURL, ow, map[string]any{"name": "Inner circle", "theme": "business", "visibility": "secret", "owner": member.Id})
	if open["theme"] != "hobby" || secret["owner"] != owner.Id || secret["category"] == "" || secret["member_count"] != float64(1) {
		t.Fatalf("created group: %v / %v", open, secret)
	}
	sid := secret["id"].(string)
	testutil.WantStatus(t, srv, http.MethodPost, testutil.GroupAction(sid, "/invite"), ow, map[string]any{"user": member.Id}, 200, "invited")

	// the invited member sees the group before joining, not its board
	if testutil.CountItems(t, srv, testutil.GroupsURL+"?filter="+testutil.Urlq("id='"+sid+"'"), mt) != 1 {
		t.Fatal("an invited member sees the secret group")
	}
	testutil.WantStatus(t, srv, http.MethodPost, testutil.TopicsURL, mt, map[string]any{"category": secret["category"], "title": "x", "body": "x"}, 403, "Only members")
	testutil.WantStatus(t, srv, http.MethodPost, testutil.GroupAction(sid, "/join"), mt, nil, 200, "active")

	rtMember := srv.Subscribe(t, mt, "forum_topics")
	topic := testutil.MustCreate(t, srv, testutil.TopicsURL, mt, map[string]any{"category": secret["category"], "title": "Plans", "body": "Quarterly plans"})

	// lists: the outsider sees open and approval groups only
	if got := testutil.CountItems(t, srv, testutil.GroupsURL, ot); got != 2 {
		t.Fatalf("outsider sees %d groups, want 2", got)
	}
	for _, tok := range []string{mt, at} {
		if got := testutil.CountItems(t, srv, testutil.GroupsURL, tok); got != 3 {
			t.Fatalf("member/admin sees %d groups, want 3", got)
		}
	}
	testutil.WantStatus(t, srv, http.MethodGet, testutil.GroupsURL+"/"+sid, ot, nil, 404, "")
	testutil.WantStatus(t, srv, http.MethodGet, testutil.GroupsURL+"/"+sid, mt, nil, 200, "")
	if got := testutil.CountItems(t, srv, testutil.GroupsURL, ""); got != 0 {
		t.Fatalf("anonymous sees %d groups", got)
	}
	// member lists, board, topics
	if got := testutil.CountItems(t, srv, testutil.MembersURL+"?filter="+testutil.Urlq("group='"+sid+"'"), ot); got != 0 {
		t.Fatalf("outsider sees %d members of the secret group", got)
	}
	if got := testutil.CountItems(t, srv, testutil.MembersURL+"?filter="+testutil.Urlq("group='"+sid+"'"), mt); got != 2 {
		t.Fatalf("member sees %d members of the secret group, want 2", got)
	}
	testutil.WantStatus(t, srv, http.MethodGet, testutil.CatsURL+"/"+secret["category"].(string), ot, nil, 404, "")
	testutil.WantStatus(t, srv, http.MethodGet, testutil.TopicsURL+"/"+topic["id"].(string), ot, nil, 404, "")
	testutil.WantStatus(t, srv, http.MethodGet, testutil.TopicsURL+"/"+topic["id"].(string), at, nil, 200, "")
	testutil.WantStatus(t, srv, http.MethodPost, testutil.TopicsURL, ot, map[string]any{"category": secret["category"], "title": "x", "body": "x"}, 404, "")
	testutil.WantStatus(t, srv, http.MethodPost, testutil.PostsURL, ot, map[string]any{"topic": topic["id"], "body": "x"}, 404, "")
	testutil.WantStatus(t, srv, http.MethodPost, testutil.GroupAction(sid, "/join"), ot, nil, 404, "")
	// the open group's board is for its members too
	testutil.WantStatus(t, srv, http.MethodPost, testutil.TopicsURL, ot, map[string]any{"category": open["category"], "title": "x", "body": "x"}, 403, "Only members")

	// realtime: the member gets the board topic, the outsider nothing secret
	if ev, ok := rtMember.Next(3 * time.Second); !ok || !strings.Contains(string(ev.Data), topic["id"].(string)) {
		t.Fatalf("member realtime: %v %s", ok, ev.Data)
	}
	deadline := time.After(1500 * time.Millisecond)
	sawOpen := false
	for {
		select {
		case ev, ok := <-rtOut.Events:
			if !ok {
				t.Fatal("outsider realtime closed")
			}
			if strings.Contains(string(ev.Data), sid) || strings.Contains(string(ev.Data), topic["id"].(string)) {
				t.Fatalf("the outsider got a secret event: %s %s", ev.Topic, ev.Data)
			}
			sawOpen = sawOpen || strings.Contains(string(ev.Data), open["id"].(string))
			continue
		case <-deadline:
		}
		break
	}
	if !sawOpen {
		t.Fatal("the outsider's subscription works: it must have seen the open group created")
	}

	// discover by theme: secret groups are not counted
	body := testutil.WantStatus(t, srv, http.MethodGet, "/api/salon/groups/themes", ot, nil, 200, "")
	if !strings.Contains(string(body), `{"theme":"business","groups":1}`) || !strings.Contains(string(body), `{"theme":"hobby","groups":1}`) {
		t.Fatalf("themes: %s", body)
	}
	testutil.WantStatus(t, srv, http.MethodGet, "/api/salon/groups/themes", "", nil, 401, "")

	// "my groups" through the SDK: the member's active memberships with their groups
	body = testutil.WantStatus(t, srv, http.MethodGet, testutil.MembersURL+"?expand=group&filter="+testutil.Urlq("user='"+member.Id+"' && status='active'"), mt, nil, 200, "Inner circle")
	if testutil.Decode[testutil.List[map[string]any]](t, body).TotalItems != 1 {
		t.Fatalf("my groups: %s", body)
	}

	// a banned member of a secret group loses sight of it and its board
	testutil.WantStatus(t, srv, http.MethodPost, testutil.GroupAction(sid, "/members/"+member.Id+"/ban"), ow, nil, 200, "banned")
	testutil.WantStatus(t, srv, http.MethodGet, testutil.GroupsURL+"/"+sid, mt, nil, 404, "")
	if got := testutil.CountItems(t, srv, testutil.GroupsURL, mt); got != 2 {
		t.Fatalf("banned member sees %d groups, want 2", got)
	}
	testutil.WantStatus(t, srv, http.MethodGet, testutil.TopicsURL+"/"+topic["id"].(string), mt, nil, 404, "")
	testutil.WantStatus(t, srv, http.MethodPost, testutil.GroupAction(sid, "/join"), mt, nil, 404, "")
	_ = approval
}

func TestGroupJoinAndModeration(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	owner := testutil.CreateUser(t, app, testutil.User{})
	mod := testutil.CreateUser(t, app, testutil.User{})
	alice := testutil.CreateUser(t, app, testutil.User{Name: "Alice"})
	bob := testutil.CreateUser(t, app, testutil.User{})
	low := testutil.CreateUser(t, app, testutil.User{})
	gold := testutil.CreateUser(t, app, testutil.User{Rank: "Gold"})
	admin := testutil.CreateUser(t, app, testutil.User{Role: "admin"})
	ow, mt, al, bt, lt, at := testutil.Token(t, owner), testutil.Token(t, mod), testutil.Token(t, alice), testutil.Token(t, bob), testutil.Token(t, low), testutil.Token(t, admin)

	g := testutil.MustCreate(t, srv, testutil.GroupsURL, ow, map[string]any{"name": "Founders", "theme": "business", "visibility": "approval"})
	gid := g["id"].(string)
	members := func() float64 {
		r, err := app.FindRecordById("groups", gid)
		if err != nil {
			t.Fatal(err)
		}
		return r.GetFloat("member_count")
	}

	// approval: a request waits; the owner hears of it and approves
	testutil.WantStatus(t, srv, http.MethodPost, testutil.GroupAction(gid, "/join"), al, nil, 200, `"pending"`)
	wantCode(t, testutil.WantStatus(t, srv, http.MethodPost, testutil.GroupAction(gid, "/join"), al, nil, 400, "waiting"), "join_pending")
	if n, _ := app.CountRecords("notifications", testutil.DbxHash("user", owner.Id), testutil.DbxHash("kind", "group_request")); n != 1 {
		t.Fatalf("owner request notifications: %d", n)
	}
	testutil.WantStatus(t, srv, http.MethodPost, testutil.TopicsURL, al, map[string]any{"category": g["category"], "title": "x", "body": "x"}, 403, "Only members")
	testutil.WantStatus(t, srv, http.MethodPost, testutil.GroupAction(gid, "/members/"+alice.Id+"/approve"), bt, nil, 403, "owner and moderators")
	testutil.WantStatus(t, srv, http.MethodPost, testutil.GroupAction(gid, "/members/"+alice.Id+"/approve"), ow, nil, 200, `"active"`)
	if members() != 2 {
		t.Fatalf("member_count %v, want 2", members())
	}
	testutil.MustCreate(t, srv, testutil.TopicsURL, al, map[string]any{"category": g["category"], "title": "Hello founders", "body": "x"})

	// moderators: promoted by the owner only
	testutil.WantStatus(t, srv, http.MethodPost, testutil.GroupAction(gid, "/join"), mt, nil, 200, "")
	testutil.WantStatus(t, srv, http.MethodPost, testutil.GroupAction(gid, "/members/"+mod.Id+"/approve"), ow, nil, 200, "")
	testutil.WantStatus(t, srv, http.MethodPost, testutil.GroupAction(gid, "/members/"+mod.Id+"/promote"), al, nil, 403, "")
	testutil.WantStatus(t, srv, http.MethodPost, testutil.GroupAction(gid, "/members/"+mod.Id+"/promote"), ow, nil, 200, `"moderator"`)
	testutil.WantStatus(t, srv, http.MethodPost, testutil.GroupAction(gid, "/members/"+alice.Id+"/promote"), mt, nil, 403, "Only the owner")

	// a moderator approves and bans plain members, not the owner
	testutil.WantStatus(t, srv, http.MethodPost, testutil.GroupAction(gid, "/join"), bt, nil, 200, "")
	testutil.WantStatus(t, srv, http.MethodPost, testutil.GroupAction(gid, "/members/"+bob.Id+"/approve"), mt, nil, 200, "")
	wantCode(t, testutil.WantStatus(t, srv, http.MethodPost, testutil.GroupAction(gid, "/members/"+owner.Id+"/ban"), mt, nil, 400, "owner"), "owner_not_managed")
	testutil.WantStatus(t, srv, http.MethodPost, testutil.GroupAction(gid, "/members/"+bob.Id+"/ban"), mt, nil, 200, `"banned"`)
	if members() != 3 {
		t.Fatalf("member_count after ban %v, want 3", members())
	}
	// banned: clear 403s, and the board is closed to them
	testutil.WantStatus(t, srv, http.MethodPost, testutil.GroupAction(gid, "/join"), bt, nil, 403, "banned")
	testutil.WantStatus(t, srv, http.MethodPost, testutil.TopicsURL, bt, map[string]any{"category": g["category"], "title": "x", "body": "x"}, 403, "banned")
	if n := testutil.CountItems(t, srv, testutil.TopicsURL+"?filter="+testutil.Urlq("category='"+g["category"].(string)+"'"), bt); n != 0 {
		t.Fatalf("a banned member reads %d board topics", n)
	}
	if n := testutil.CountItems(t, srv, testutil.TopicsURL+"?filter="+testutil.Urlq("category='"+g["category"].(string)+"'"), al); n != 1 {
		t.Fatalf("an active member reads %d board topics, want 1", n)
	}
	// the ban stays: a banned member cannot delete it to rejoin
	banRow, err := app.FindFirstRecordByFilter("group_members", "user = {:u}", map[string]any{"u": bob.Id})
	if err != nil {
		t.Fatal(err)
	}
	testutil.WantStatus(t, srv, http.MethodDelete, testutil.MembersURL+"/"+banRow.Id, bt, nil, 403, `"code":"banned"`)
	testutil.WantStatus(t, srv, http.MethodPost, testutil.GroupAction(gid, "/members/"+bob.Id+"/unban"), mt, nil, 204, "")
	testutil.WantStatus(t, srv, http.MethodPost, testutil.GroupAction(gid, "/join"), bt, nil, 200, "pending")

	// minimum rank
	goldGroup := testutil.MustCreate(t, srv, testutil.GroupsURL, ow, map[string]any{"name": "Gold club", "theme": "hobby", "visibility": "open", "min_rank": testutil.RankID(t, app, "Gold")})
	testutil.WantStatus(t, srv, http.MethodPost, testutil.GroupAction(goldGroup["id"].(string), "/join"), lt, nil, 403, "Gold")
	testutil.WantStatus(t, srv, http.MethodPost, testutil.GroupAction(goldGroup["id"].(string), "/join"), testutil.Token(t, gold), nil, 200, `"active"`)

	// leaving: a member deletes their own row; the owner cannot
	aliceRow, _ := app.FindFirstRecordByFilter("group_members", "user = {:u} && group = {:g}", map[string]any{"u": alice.Id, "g": gid})
	ownerRow, _ := app.FindFirstRecordByFilter("group_members", "user = {:u} && group = {:g}", map[string]any{"u": owner.Id, "g": gid})
	testutil.WantStatus(t, srv, http.MethodDelete, testutil.MembersURL+"/"+ownerRow.Id, ow, nil, 403, `"code":"owner_cannot_leave"`)
	testutil.WantStatus(t, srv, http.MethodDelete, testutil.MembersURL+"/"+aliceRow.Id, al, nil, 204, "")

	// settings: only the owner (or an admin) changes visibility
	testutil.WantStatus(t, srv, http.MethodPatch, testutil.GroupsURL+"/"+gid, mt, map[string]any{"visibility": "open"}, 403, "visibility")
	testutil.WantStatus(t, srv, http.MethodPatch, testutil.GroupsURL+"/"+gid, mt, map[string]any{"description": "For founders"}, 200, "")
	testutil.WantStatus(t, srv, http.MethodPatch, testutil.GroupsURL+"/"+gid, al, map[string]any{"description": "hijack"}, 403, `"code":"group_moderators_only"`)
	testutil.WantStatus(t, srv, http.MethodPatch, testutil.GroupsURL+"/"+gid, ow, map[string]any{"owner": mod.Id}, 400, "transfer")
	// a save of a stale copy (as the dashboard may do) keeps the count right
	stale, _ := app.FindRecordById("groups", gid)
	stale.Set("member_count", 42)
	stale.Set("description", "from an old copy")
	if err := app.Save(stale); err != nil {
		t.Fatal(err)
	}
	if members() != 2 { // the owner and the moderator (alice left, bob is pending)
		t.Fatalf("member_count after a stale save %v, want 2", members())
	}
	renamed := testutil.Decode[map[string]any](t, testutil.WantStatus(t, srv, http.MethodPatch, testutil.GroupsURL+"/"+gid, ow, map[string]any{"name": "Founders club", "member_count": 999}, 200, ""))
	if renamed["member_count"] == float64(999) {
		t.Fatal("member_count is the server's")
	}
	if board, _ := app.FindRecordById("forum_categories", g["category"].(string)); board.GetString("name") != "Founders club" {
		t.Fatalf("the board follows the group's name: %v", board.GetString("name"))
	}

	// hand over ownership
	testutil.WantStatus(t, srv, http.MethodPost, testutil.GroupAction(gid, "/transfer"), mt, map[string]any{"user": mod.Id}, 403, "")
	wantCode(t, testutil.WantStatus(t, srv, http.MethodPost, testutil.GroupAction(gid, "/transfer"), ow, map[string]any{"user": alice.Id}, 400, "active member"), "new_owner_not_member")
	testutil.WantStatus(t, srv, http.MethodPost, testutil.GroupAction(gid, "/transfer"), ow, map[string]any{"user": mod.Id}, 200, "")
	if m, _ := app.FindFirstRecordByFilter("group_members", "user = {:u} && group = {:g}", map[string]any{"u": owner.Id, "g": gid}); m.GetString("role") != "moderator" {
		t.Fatalf("old owner role: %s", m.GetString("role"))
	}
	if gr, _ := app.FindRecordById("groups", gid); gr.GetString("owner") != mod.Id {
		t.Fatal("owner not handed over")
	}
	testutil.WantStatus(t, srv, http.MethodPost, testutil.GroupAction(gid, "/members/"+owner.Id+"/demote"), ow, nil, 403, "")
	testutil.WantStatus(t, srv, http.MethodPost, testutil.GroupAction(gid, "/members/"+owner.Id+"/demote"), mt, nil, 200, `"member"`)

	// admins manage any group; deleting a group removes its board
	testutil.WantStatus(t, srv, http.MethodPost, testutil.GroupAction(gid, "/members/"+bob.Id+"/approve"), at, nil, 200, "")
	testutil.WantStatus(t, srv, http.MethodDelete, testutil.GroupsURL+"/"+gid, ow, nil, 403, `"code":"group_owner_only"`)
	testutil.WantStatus(t, srv, http.MethodDelete, testutil.GroupsURL+"/"+gid, at, nil, 204, "")
	if _, err := app.FindRecordById("forum_categories", g["category"].(string)); err == nil {
		t.Fatal("the board outlived its group")
	}
	if n, _ := app.CountRecords("group_members", testutil.DbxHash("group", gid)); n != 0 {
		t.Fatalf("%d memberships outlived their group", n)
	}
}

func TestGroupCreateRank(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	testutil.UpdateSettings(t, app, map[string]any{"group_create_min_rank": testutil.RankID(t, app, "Silver")})
	free := testutil.CreateUser(t, app, testutil.User{})
	silver := testutil.CreateUser(t, app, testutil.User{Rank: "Silver"})
	body := map[string]any{"name": "Readers", "theme": "hobby", "visibility": "open"}
	testutil.WantStatus(t, srv, http.MethodPost, testutil.GroupsURL, testutil.Token(t, free), body, 403, "Silver")
	testutil.WantStatus(t, srv, http.MethodPost, testutil.GroupsURL, "", body, 401, `"code":"login"`)
	testutil.WantStatus(t, srv, http.MethodPost, testutil.GroupsURL, testutil.Token(t, silver), map[string]any{"name": "Readers", "theme": "hobby", "visibility": "hidden"}, 400, "")
	g := testutil.MustCreate(t, srv, testutil.GroupsURL, testutil.Token(t, silver), body)
	if n, _ := app.CountRecords("forum_categories", testutil.DbxHash("group", g["id"])); n != 1 {
		t.Fatalf("the group got %d boards", n)
	}
	// nothing half-written when the group is refused
	if n, _ := app.CountRecords("groups"); n != 1 {
		t.Fatalf("%d groups", n)
	}
	if n, _ := app.CountRecords("forum_categories"); n != 1 {
		t.Fatalf("%d categories", n)
	}
	_ = core.CollectionNameSuperusers
}

// wantCode: a refusal's body carries its stable code (data.reason.code),
// which clients show as a sentence in the member's language.
func wantCode(t *testing.T, body []byte, code string) {
	t.Helper()
	if !strings.Contains(string(body), `"code":"`+code+`"`) {
		t.Fatalf("want refusal code %s in %s", code, body)
	}
}
