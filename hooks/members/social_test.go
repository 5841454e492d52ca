package members_test

import (
	"net/http"
	"strings"
	"testing"

	"salonbase/hooks/dm"
	"salonbase/hooks/members"
	"salonbase/hooks/notify"
	"salonbase/hooks/salon"
	"salonbase/testutil"
)

func TestBlocks(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	me := testutil.CreateUser(t, app, testutil.User{})
	pest := testutil.CreateUser(t, app, testutil.User{})
	other := testutil.CreateUser(t, app, testutil.User{})
	url := "/api/collections/blocks/records"

	status, body := srv.Do(t, http.MethodPost, url, testutil.Token(t, me), map[string]any{"blocked": pest.Id})
	if status != http.StatusOK {
		t.Fatalf("block: %d %s", status, body)
	}
	block := testutil.Decode[map[string]any](t, body)
	if block["user"] != me.Id {
		t.Fatalf("block owner: %v", block)
	}
	if blocked, _ := members.IsBlocked(app, me.Id, pest.Id); !blocked {
		t.Fatal("IsBlocked must see the block")
	}

	for name, c := range map[string]struct {
		token string
		body  map[string]any
		want  int
	}{
		"again":            {testutil.Token(t, me), map[string]any{"blocked": pest.Id}, 400},
		"myself":           {testutil.Token(t, me), map[string]any{"blocked": me.Id}, 400},
		"for someone else": {testutil.Token(t, other), map[string]any{"user": me.Id, "blocked": other.Id}, 403}, // not_yours
		"anonymous":        {"", map[string]any{"blocked": pest.Id}, 401},                                       // login
	} {
		if status, body := srv.Do(t, http.MethodPost, url, c.token, c.body); status != c.want {
			t.Errorf("%s: want %d, got %d %s", name, c.want, status, body)
		}
	}

	// only the blocker sees and removes the block
	for token, want := range map[string]string{testutil.Token(t, me): `"totalItems":1`, testutil.Token(t, pest): `"totalItems":0`} {
		if _, body := srv.Do(t, http.MethodGet, url, token, nil); !strings.Contains(string(body), want) {
			t.Errorf("list: want %s in %s", want, body)
		}
	}
	id := block["id"].(string)
	if status, _ := srv.Do(t, http.MethodDelete, url+"/"+id, testutil.Token(t, pest), nil); status != http.StatusNotFound {
		t.Fatalf("the blocked member removes the block: want 404, got %d", status)
	}
	if status, _ := srv.Do(t, http.MethodDelete, url+"/"+id, testutil.Token(t, me), nil); status != http.StatusNoContent {
		t.Fatalf("unblock: %d", status)
	}
}

func TestReports(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	reporter := testutil.CreateUser(t, app, testutil.User{})
	offender := testutil.CreateUser(t, app, testutil.User{Name: "Spammer"})
	bystander := testutil.CreateUser(t, app, testutil.User{})
	admin := testutil.CreateUser(t, app, testutil.User{Role: "admin"})
	url := "/api/collections/reports/records"

	status, body := srv.Do(t, http.MethodPost, url, testutil.Token(t, reporter), map[string]any{
		"target_collection": "users", "target_id": offender.Id, "category": "spam", "reason": "Sends ads to everyone",
	})
	if status != http.StatusOK {
		t.Fatalf("report: %d %s", status, body)
	}
	report := testutil.Decode[map[string]any](t, body)
	if report["status"] != "open" || report["reporter"] != reporter.Id {
		t.Fatalf("report fields: %v", report)
	}
	id := report["id"].(string)

	// the admins are notified
	n, _ := app.FindFirstRecordByData("notifications", "user", admin.Id)
	if n == nil || n.GetString("kind") != "report" || n.GetString("source_id") != id {
		t.Fatalf("admin notification missing: %v", n)
	}

	for name, c := range map[string]struct {
		body map[string]any
		want string
	}{
		"twice":             {map[string]any{"target_collection": "users", "target_id": offender.Id, "reason": "again"}, "already reported"},
		"missing target":    {map[string]any{"target_collection": "users", "target_id": "nosuchid000000", "reason": "x"}, "does not exist"},
		"system collection": {map[string]any{"target_collection": "_superusers", "target_id": "x", "reason": "x"}, "does not exist"},
		"invisible target":  {map[string]any{"target_collection": "invite_codes", "target_id": newInvite(t, app, admin, nil).Id, "reason": "x"}, "does not exist"},
	} {
		status, body := srv.Do(t, http.MethodPost, url, testutil.Token(t, reporter), c.body)
		if status != http.StatusBadRequest || !strings.Contains(string(body), c.want) {
			t.Errorf("%s: want 400 %q, got %d %s", name, c.want, status, body)
		}
	}

	// a member cannot set what admins set: 403 naming it
	testutil.WantStatus(t, srv, http.MethodPost, url, testutil.Token(t, reporter),
		map[string]any{"target_collection": "users", "target_id": bystander.Id, "reason": "x", "status": "resolved"}, 403, `"code":"admins_only"`)

	// visible to the reporter and the admins only
	for token, want := range map[string]int{
		testutil.Token(t, reporter):  http.StatusOK,
		testutil.Token(t, admin):     http.StatusOK,
		testutil.Token(t, bystander): http.StatusNotFound,
		testutil.Token(t, offender):  http.StatusNotFound,
	} {
		if status, _ := srv.Do(t, http.MethodGet, url+"/"+id, token, nil); status != want {
			t.Errorf("view report: want %d, got %d", want, status)
		}
	}

	// only admins change the status; the handler is recorded
	testutil.WantStatus(t, srv, http.MethodPatch, url+"/"+id, testutil.Token(t, reporter), map[string]any{"status": "dismissed"}, http.StatusForbidden, `"code":"admins_only"`)
	status, body = srv.Do(t, http.MethodPatch, url+"/"+id, testutil.Token(t, admin), map[string]any{"status": "resolved", "admin_note": "Warned."})
	if status != http.StatusOK || !strings.Contains(string(body), `"handled_by":"`+admin.Id) {
		t.Fatalf("admin resolves: %d %s", status, body)
	}
}

func TestFollows(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	fan := testutil.CreateUser(t, app, testutil.User{})
	star := testutil.CreateUser(t, app, testutil.User{})
	url := "/api/collections/follows/records"

	status, body := srv.Do(t, http.MethodPost, url, testutil.Token(t, fan), map[string]any{"followee": star.Id})
	if status != http.StatusOK {
		t.Fatalf("follow: %d %s", status, body)
	}
	for name, c := range map[string]map[string]any{
		"twice":  {"followee": star.Id},
		"myself": {"followee": fan.Id},
	} {
		if status, _ := srv.Do(t, http.MethodPost, url, testutil.Token(t, fan), c); status != http.StatusBadRequest {
			t.Errorf("%s: want 400, got %d", name, status)
		}
	}
	ids, err := members.FollowerIDs(app, star.Id)
	if err != nil || len(ids) != 1 || ids[0] != fan.Id {
		t.Fatalf("followers: %v %v", ids, err)
	}
	id := testutil.Decode[map[string]any](t, body)["id"].(string)
	testutil.WantStatus(t, srv, http.MethodDelete, url+"/"+id, testutil.Token(t, star), nil, http.StatusForbidden, `"code":"not_yours"`)
}

func TestNotificationsBelongToTheirMember(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	me := testutil.CreateUser(t, app, testutil.User{})
	other := testutil.CreateUser(t, app, testutil.User{})
	url := "/api/collections/notifications/records"

	rt := srv.Subscribe(t, testutil.Token(t, me), "notifications")
	rtOther := srv.Subscribe(t, testutil.Token(t, other), "notifications")

	if err := notify.Notify(app, []string{me.Id, me.Id, ""}, notify.Notification{Kind: "mention", Title: "You were mentioned", URL: "/rooms/x"}); err != nil {
		t.Fatal(err)
	}
	if ev, ok := rt.Next(3e9); !ok || !strings.Contains(string(ev.Data), "You were mentioned") {
		t.Fatalf("the member receives the notification live: %v %s", ok, ev.Data)
	}
	if ev, ok := rtOther.Next(3e8); ok {
		t.Fatalf("another member received %s", ev.Data)
	}

	_, body := srv.Do(t, http.MethodGet, url, testutil.Token(t, me), nil)
	l := testutil.Decode[testutil.List[map[string]any]](t, body)
	if l.TotalItems != 1 {
		t.Fatalf("repeated ids must give one notification, got %d", l.TotalItems)
	}
	id := l.Items[0]["id"].(string)
	if _, body := srv.Do(t, http.MethodGet, url, testutil.Token(t, other), nil); !strings.Contains(string(body), `"totalItems":0`) {
		t.Fatalf("other member sees it: %s", body)
	}
	testutil.WantStatus(t, srv, http.MethodPatch, url+"/"+id, testutil.Token(t, me), map[string]any{"title": "forged"}, http.StatusForbidden, `"code":"server_field"`)
	if status, body := srv.Do(t, http.MethodPatch, url+"/"+id, testutil.Token(t, me), map[string]any{"read": true}); status != http.StatusOK {
		t.Fatalf("mark read: %d %s", status, body)
	}
	if status, _ := srv.Do(t, http.MethodPost, url, testutil.Token(t, me), map[string]any{"user": me.Id, "kind": "x", "title": "x"}); status != http.StatusForbidden {
		t.Fatalf("members cannot create notifications: got %d", status)
	}
}

func TestSalonSettingsIsASingleton(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	admin := testutil.CreateUser(t, app, testutil.User{Role: "admin"})
	member := testutil.CreateUser(t, app, testutil.User{})
	root := testutil.SuperuserToken(t, app)
	url := "/api/collections/salon_settings/records"

	s, _ := salon.Settings(app)
	if status, body := srv.Do(t, http.MethodPost, url, root, map[string]any{"dm_mode": "open"}); status != http.StatusBadRequest || !strings.Contains(string(body), "exactly one") {
		t.Fatalf("second settings record: %d %s", status, body)
	}
	if status, _ := srv.Do(t, http.MethodDelete, url+"/"+s.Id, root, nil); status != http.StatusBadRequest {
		t.Fatalf("delete settings: want 400, got %d", status)
	}
	testutil.WantStatus(t, srv, http.MethodPatch, url+"/"+s.Id, testutil.Token(t, member), map[string]any{"dm_mode": "off"}, http.StatusForbidden, `"code":"admins_only"`)
	if status, _ := srv.Do(t, http.MethodPatch, url+"/"+s.Id, testutil.Token(t, admin), map[string]any{"dm_mode": "off"}); status != http.StatusOK {
		t.Fatalf("admin edits settings: %d", status)
	}
	if d, _ := dm.LoadDMSettings(app); d.Mode != "off" {
		t.Fatalf("settings change not visible at once: %q", d.Mode)
	}
}
