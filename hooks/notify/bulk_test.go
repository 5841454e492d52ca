package notify_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"

	"salonbase/hooks/salon"
	"salonbase/testutil"
)

// An announcement (ten recipients or more) writes the notices of members
// who are offline as plain rows and saves those of members online as records (for their realtime
// event): both must be the same notice. The member online gets theirs
// live, the member who turned announcements off gets nothing (no row, no
// event, no mail), the others get their e-mail, and the worker sends it.
func TestAnnouncementOnlineAndOfflineMembersGetTheSameNotice(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	ms := testutil.StartMailServer(t)
	testutil.UseMailServer(t, app, ms)
	srv := testutil.Serve(t, app)
	testutil.UpdateSettings(t, app, map[string]any{"email_rate_per_minute": 0})
	admin := testutil.Member(t, app, testutil.User{Role: "admin"}, "en")
	online := testutil.Member(t, app, testutil.User{Email: "online@example.com"}, "ja")
	offline := testutil.Member(t, app, testutil.User{Email: "offline@example.com"}, "ja")
	quiet := testutil.Member(t, app, testutil.User{Email: "quiet@example.com"}, "ja")
	for range 10 { // enough recipients for the chunk to be written as rows
		testutil.CreateUser(t, app, testutil.User{}) // unverified: no e-mail
	}
	if status, out := srv.Do(t, "POST", "/api/salon/notifications/prefs", testutil.Token(t, quiet), map[string]any{"announcement": "off"}); status != 200 {
		t.Fatalf("prefs: %d %s", status, out)
	}
	onlineRT := srv.Subscribe(t, testutil.Token(t, online), "notifications")
	quietRT := srv.Subscribe(t, testutil.Token(t, quiet), "notifications")

	status, out := srv.Do(t, "POST", "/api/salon/notifications/announce", testutil.Token(t, admin), map[string]any{
		"title": "Summer meetup", "body": "On the roof", "url": "/events"})
	if status != 202 {
		t.Fatalf("announce: %d %s", status, out)
	}
	salon.WaitBackground(app)

	notice := func(who *core.Record) *core.Record {
		t.Helper()
		recs, err := app.FindAllRecords("notifications", dbx.HashExp{"user": who.Id, "kind": "announcement"})
		if err != nil || len(recs) != 1 {
			t.Fatalf("%s: %d announcements (%v), want 1", who.GetString("email"), len(recs), err)
		}
		return recs[0]
	}
	on, off := notice(online), notice(offline)
	for _, f := range []string{"kind", "title", "body", "url", "source_collection", "source_id", "read"} {
		if on.Get(f) != off.Get(f) {
			t.Errorf("%s: online member's notice %v, offline member's %v", f, on.Get(f), off.Get(f))
		}
	}
	if off.GetString("title") != "Summer meetup" || off.GetString("body") != "On the roof" || off.GetBool("read") {
		t.Errorf("offline member's notice: %v", off.FieldsData())
	}
	if len(off.Id) != core.DefaultIdLength || off.GetDateTime("created").IsZero() || off.GetDateTime("updated").IsZero() {
		t.Errorf("offline member's notice: id %q created %v updated %v", off.Id, off.GetDateTime("created"), off.GetDateTime("updated"))
	}
	// the offline member reads it through the API like any notice
	status, out = srv.Do(t, "GET", "/api/collections/notifications/records/"+off.Id, testutil.Token(t, offline), nil)
	if status != 200 {
		t.Fatalf("offline member reads the notice: %d %s", status, out)
	}
	if status, _ := srv.Do(t, "GET", "/api/collections/notifications/records/"+off.Id, testutil.Token(t, online), nil); status != 404 {
		t.Fatalf("another member reads the offline member's notice: %d", status)
	}

	ev, ok := onlineRT.Next(10 * time.Second)
	var data struct {
		Action string `json:"action"`
		Record struct {
			ID    string `json:"id"`
			User  string `json:"user"`
			Title string `json:"title"`
		} `json:"record"`
	}
	if ok {
		_ = json.Unmarshal(ev.Data, &data)
	}
	if !ok || data.Action != "create" || data.Record.ID != on.Id || data.Record.User != online.Id || data.Record.Title != "Summer meetup" {
		t.Fatalf("online member's realtime event: %v %s %s", ok, ev.Topic, ev.Data)
	}
	if ev, ok := onlineRT.Next(300 * time.Millisecond); ok {
		t.Fatalf("online member got a second event: %s %s", ev.Topic, ev.Data)
	}
	if ev, ok := quietRT.Next(300 * time.Millisecond); ok {
		t.Fatalf("member with announcements off got an event: %s %s", ev.Topic, ev.Data)
	}
	if n := testutil.NoticesOf(t, app, quiet, "announcement"); n != 0 {
		t.Fatalf("member with announcements off has %d notices", n)
	}

	// e-mails: admin, online and offline members, not the quiet one; the
	// worker was woken by the job's commit and sends them
	ms.WaitFor(t, 3)
	for _, who := range []*core.Record{admin, online, offline} {
		if n := testutil.CountRecords(t, app, "email_outbox", dbx.HashExp{"user": who.Id, "kind": "announcement"}); n != 1 {
			t.Errorf("%s: %d announcement e-mails", who.GetString("email"), n)
		}
	}
	if n := testutil.CountRecords(t, app, "email_outbox", dbx.HashExp{"user": quiet.Id}); n != 0 {
		t.Errorf("member with announcements off: %d e-mails", n)
	}
}
