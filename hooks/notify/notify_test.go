package notify_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"

	"salonbase/hooks/notify"
	"salonbase/hooks/salon"
	"salonbase/testutil"
)

// saveSettingsWithOutboxStopped runs save, a save of the app settings,
// while the outbox worker is stopped, and then starts a new one, as a restart
// would; the new worker sends with what the settings reload published.
// PocketBase v0.40.4 sets its logger's level at every settings reload without
// the lock its Enabled reads take (core/base.go's reload hook calls
// tools/logger BatchHandler.SetLevel), so a worker logging during the save
// (as it does when mail turns on or off) is a data race inside PocketBase
// that the race detector reports. Tests that need SMTP from the start set it
// before testutil.Serve starts the worker instead.
func saveSettingsWithOutboxStopped(t testing.TB, app core.App, save func()) {
	t.Helper()
	w := notify.RunningOutbox(app)
	if w == nil {
		t.Fatal("no outbox worker runs")
	}
	w.Stop()
	save()
	w2 := notify.StartOutbox(app)
	t.Cleanup(w2.Stop)
}

func deliver(t testing.TB, app core.App, now time.Time) (sent, failed int) {
	t.Helper()
	sent, failed, err := notify.DeliverOutbox(app, now)
	if err != nil {
		t.Fatal(err)
	}
	return sent, failed
}

var unsubRe = regexp.MustCompile(`https://salon\.example\.com(/api/salon/notifications/unsubscribe\?\S+)`)

func TestNotifySendsMailThroughSMTPInTheMembersLanguage(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	ms := testutil.StartMailServer(t)
	testutil.UseMailServer(t, app, ms)
	en := testutil.Member(t, app, testutil.User{Name: "Alice", Email: "alice@example.com"}, "en")
	ja := testutil.Member(t, app, testutil.User{Name: "花子", Email: "hanako@example.com"}, "ja")

	err := notify.Notify(app, []string{en.Id, ja.Id}, notify.Notification{
		Kind: "dm", Title: "New message from Bob", Body: "Are you coming on Friday?", URL: "/dm/abc",
		Vars: map[string]string{"SENDER": "Bob"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := testutil.CountRecords(t, app, "notifications", dbx.HashExp{"kind": "dm"}); n != 2 {
		t.Fatalf("in-app notifications: got %d, want 2", n)
	}
	// Notify only queued: nothing reached SMTP yet
	if n := testutil.CountRecords(t, app, "email_outbox", dbx.HashExp{"status": "pending"}); n != 2 || len(ms.Messages()) != 0 {
		t.Fatalf("queued %d, already sent %d; want 2 queued, none sent", n, len(ms.Messages()))
	}

	if sent, failed := deliver(t, app, time.Now()); sent != 2 || failed != 0 {
		t.Fatalf("deliver: sent %d failed %d", sent, failed)
	}
	got := map[string]testutil.ReceivedMail{}
	for _, m := range ms.WaitFor(t, 2) {
		if len(m.To) != 1 {
			t.Fatalf("recipients %v: want exactly one per message", m.To)
		}
		got[m.To[0]] = m
	}
	a, h := got["alice@example.com"], got["hanako@example.com"]
	if a.Subject != "[Salonbase] New message from Bob" || h.Subject != "[Salonbase] Bobさんから新しいメッセージ" {
		t.Fatalf("subjects %q / %q", a.Subject, h.Subject)
	}
	if a.From != "no-reply@salon.example.com" {
		t.Fatalf("envelope from %q", a.From)
	}
	for _, want := range []string{"Hello Alice,", "Are you coming on Friday?", "Open in the salon: https://salon.example.com/dm/abc", "Stop e-mails like this"} {
		if !strings.Contains(a.Text, want) {
			t.Fatalf("English text lacks %q:\n%s", want, a.Text)
		}
	}
	for _, want := range []string{"花子さん", "サロンで開く: https://salon.example.com/dm/abc", "この種類のメールを停止する"} {
		if !strings.Contains(h.Text, want) {
			t.Fatalf("Japanese text lacks %q:\n%s", want, h.Text)
		}
	}
	if !strings.Contains(a.HTML, `Open in the salon: <a href="https://salon.example.com/dm/abc">`) || !strings.Contains(h.HTML, "サロンで開く") {
		t.Fatalf("HTML parts:\n%s\n%s", a.HTML, h.HTML)
	}
	if lu := a.Header.Get("List-Unsubscribe"); !strings.Contains(lu, "/api/salon/notifications/unsubscribe?") {
		t.Fatalf("List-Unsubscribe header %q", lu)
	}
	if n := testutil.CountRecords(t, app, "email_outbox", dbx.HashExp{"status": "sent"}); n != 2 {
		t.Fatalf("sent rows: %d", n)
	}
	// a second pass sends nothing again
	if sent, _ := deliver(t, app, time.Now().Add(time.Hour)); sent != 0 {
		t.Fatalf("resent %d", sent)
	}
}

func TestNotifyPreferenceSwitches(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	ms := testutil.StartMailServer(t)
	testutil.UseMailServer(t, app, ms)
	srv := testutil.Serve(t, app)
	m := testutil.Member(t, app, testutil.User{Email: "pref@example.com"}, "en")
	token := testutil.Token(t, m)

	send := func(kind string) (inApp, mails int) {
		t.Helper()
		beforeN := testutil.CountRecords(t, app, "notifications", dbx.HashExp{"user": m.Id})
		beforeM := testutil.CountRecords(t, app, "email_outbox", dbx.HashExp{"user": m.Id})
		if err := notify.Notify(app, []string{m.Id}, notify.Notification{Kind: kind, Title: "t " + kind}); err != nil {
			t.Fatal(err)
		}
		return testutil.CountRecords(t, app, "notifications", dbx.HashExp{"user": m.Id}) - beforeN,
			testutil.CountRecords(t, app, "email_outbox", dbx.HashExp{"user": m.Id}) - beforeM
	}
	setPref := func(body map[string]any) {
		t.Helper()
		if status, out := srv.Do(t, "POST", "/api/salon/notifications/prefs", token, body); status != 200 {
			t.Fatalf("set prefs %v: %d %s", body, status, out)
		}
	}

	// built-in defaults: mention e-mails, room_post stays in-app
	if a, e := send("mention"); a != 1 || e != 1 {
		t.Fatalf("default mention: in-app %d e-mail %d", a, e)
	}
	if a, e := send("room_post"); a != 1 || e != 0 {
		t.Fatalf("default room_post: in-app %d e-mail %d", a, e)
	}
	// the member's own switches
	setPref(map[string]any{"mention": "app", "room_post": "email", "reply": "off"})
	if a, e := send("mention"); a != 1 || e != 0 {
		t.Fatalf("mention=app: in-app %d e-mail %d", a, e)
	}
	if a, e := send("room_post"); a != 1 || e != 1 {
		t.Fatalf("room_post=email: in-app %d e-mail %d", a, e)
	}
	if a, e := send("reply"); a != 0 || e != 0 {
		t.Fatalf("reply=off: in-app %d e-mail %d", a, e)
	}
	// the salon default applies to kinds the member left alone, not to their choices
	testutil.UpdateSettings(t, app, map[string]any{"notify_defaults": map[string]string{"dm": "off", "mention": "email"}})
	if a, e := send("dm"); a != 0 || e != 0 {
		t.Fatalf("salon default dm=off: in-app %d e-mail %d", a, e)
	}
	if a, e := send("mention"); a != 1 || e != 0 {
		t.Fatalf("member's mention=app must beat the salon default: in-app %d e-mail %d", a, e)
	}
	setPref(map[string]any{"mention": "default"})
	if a, e := send("mention"); a != 1 || e != 1 {
		t.Fatalf("mention back to default(email): in-app %d e-mail %d", a, e)
	}

	status, body := srv.Do(t, "GET", "/api/salon/notifications/prefs", token, nil)
	prefs := testutil.Decode[struct {
		Items []struct {
			Kind, Channel, Default string
			Custom                 bool
		}
	}](t, body)
	if status != 200 {
		t.Fatalf("get prefs: %d %s", status, body)
	}
	byKind := map[string]string{}
	for _, it := range prefs.Items {
		byKind[it.Kind] = it.Channel
	}
	if byKind["dm"] != "off" || byKind["room_post"] != "email" || byKind["reply"] != "off" || byKind["mention"] != "email" {
		t.Fatalf("effective prefs %v", byKind)
	}

	// bad input and strangers
	for _, bad := range []map[string]any{{"nope": "email"}, {"dm": "loud"}, {}} {
		if status, out := srv.Do(t, "POST", "/api/salon/notifications/prefs", token, bad); status != 400 {
			t.Fatalf("prefs %v: %d %s", bad, status, out)
		}
	}
	if status, _ := srv.Do(t, "POST", "/api/salon/notifications/prefs", "", map[string]any{"dm": "off"}); status != 401 {
		t.Fatalf("prefs without login: %d", status)
	}
	// another member cannot read my preference rows
	other := testutil.Member(t, app, testutil.User{}, "en")
	status, body = srv.Do(t, "GET", "/api/collections/notification_prefs/records", testutil.Token(t, other), nil)
	if l := testutil.Decode[testutil.List[map[string]any]](t, body); status != 200 || l.TotalItems != 0 {
		t.Fatalf("stranger sees prefs: %d %s", status, body)
	}
}

func TestNotifySkipsUnverifiedAddressesAndSuspendedMembers(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	unverified := testutil.CreateUser(t, app, testutil.User{})
	suspended := testutil.Member(t, app, testutil.User{Suspended: true}, "en")
	if err := notify.Notify(app, []string{unverified.Id, suspended.Id}, notify.Notification{Kind: "dm", Title: "hi"}); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CountRecords(t, app, "notifications", dbx.HashExp{"user": unverified.Id}); n != 1 {
		t.Fatalf("unverified member still gets the in-app notice: %d", n)
	}
	if n := testutil.CountRecords(t, app, "email_outbox", nil); n != 0 {
		t.Fatalf("no e-mail to an unverified address: %d queued", n)
	}
	if n := testutil.CountRecords(t, app, "notifications", dbx.HashExp{"user": suspended.Id}); n != 0 {
		t.Fatalf("suspended member notified: %d", n)
	}
}

func TestUnsubscribeLinkWorksWithoutLogin(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	ms := testutil.StartMailServer(t)
	testutil.UseMailServer(t, app, ms)
	srv := testutil.Serve(t, app)
	m := testutil.Member(t, app, testutil.User{}, "ja")
	if err := notify.Notify(app, []string{m.Id}, notify.Notification{Kind: "follow_post", Title: "x"}); err != nil {
		t.Fatal(err)
	}
	testutil.UpdateSettings(t, app, map[string]any{"notify_defaults": map[string]string{"follow_post": "email"}})
	if err := notify.Notify(app, []string{m.Id}, notify.Notification{Kind: "follow_post", Title: "Ken posted"}); err != nil {
		t.Fatal(err)
	}
	deliver(t, app, time.Now())
	msgs := ms.WaitFor(t, 1)
	match := unsubRe.FindStringSubmatch(msgs[0].Text)
	if match == nil {
		t.Fatalf("no unsubscribe link in:\n%s", msgs[0].Text)
	}
	link := match[1]

	// GET (what a mail scanner does) only shows the question
	status, page := srv.Do(t, "GET", link, "", nil)
	if status != 200 || !strings.Contains(string(page), "メールを停止する") || !strings.Contains(string(page), `method="post"`) {
		t.Fatalf("GET link: %d %s", status, page)
	}
	if n := testutil.CountRecords(t, app, "notification_prefs", dbx.HashExp{"user": m.Id}); n != 0 {
		t.Fatal("a GET changed the preference")
	}
	// tampered links are refused and change nothing
	u, _ := url.Parse(link)
	q := u.Query()
	for name, mutate := range map[string]func(url.Values){
		"other kind":   func(v url.Values) { v.Set("k", "dm") },
		"other member": func(v url.Values) { v.Set("u", testutil.CreateUser(t, app, testutil.User{}).Id) },
		"bad token":    func(v url.Values) { v.Set("t", v.Get("t")[:10]) },
		"no token":     func(v url.Values) { v.Del("t") },
	} {
		v := url.Values{}
		for k, vals := range q {
			v[k] = append([]string(nil), vals...)
		}
		mutate(v)
		if status, out := srv.Do(t, "POST", u.Path+"?"+v.Encode(), "", nil); status != http.StatusForbidden {
			t.Fatalf("%s: %d %s", name, status, out)
		}
	}
	if n := testutil.CountRecords(t, app, "notification_prefs", dbx.HashExp{"user": m.Id}); n != 0 {
		t.Fatal("a refused link changed a preference")
	}

	// the button (POST, no login) switches this kind to in-app only
	if status, out := srv.Do(t, "POST", link, "", "List-Unsubscribe=One-Click"); status != 200 || !strings.Contains(string(out), "停止しました") {
		t.Fatalf("POST link: %d %s", status, out)
	}
	if err := notify.Notify(app, []string{m.Id}, notify.Notification{Kind: "follow_post", Title: "Ken posted again"}); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CountRecords(t, app, "email_outbox", dbx.HashExp{"user": m.Id}); n != 1 {
		t.Fatalf("after unsubscribing: %d e-mails queued in total, want the first one only", n)
	}
	if n := testutil.CountRecords(t, app, "notifications", dbx.HashExp{"user": m.Id, "kind": "follow_post"}); n != 3 {
		t.Fatalf("in-app notices continue: %d", n)
	}
}

func TestOutboxRetriesWithBackoffThenGivesUp(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	ms := testutil.StartMailServer(t)
	testutil.UseMailServer(t, app, ms)
	m := testutil.Member(t, app, testutil.User{Email: "retry@example.com"}, "en")
	if err := notify.Notify(app, []string{m.Id}, notify.Notification{Kind: "dm", Title: "retry me"}); err != nil {
		t.Fatal(err)
	}
	ms.FailNext(2)

	now := time.Now()
	if sent, failed := deliver(t, app, now); sent != 0 || failed != 1 {
		t.Fatalf("first attempt: sent %d failed %d", sent, failed)
	}
	row, err := app.FindFirstRecordByData("email_outbox", "to", "retry@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if row.GetString("status") != "pending" || row.GetInt("attempts") != 1 || !strings.Contains(row.GetString("last_error"), "try again later") {
		t.Fatalf("after a temporary failure: %v", row.FieldsData())
	}
	if next := row.GetDateTime("next_attempt_at").Time(); !next.After(now) {
		t.Fatalf("next attempt %v not after %v", next, now)
	}
	// not due yet
	if sent, failed := deliver(t, app, now.Add(30*time.Second)); sent+failed != 0 {
		t.Fatalf("retried before the backoff: %d %d", sent, failed)
	}
	if _, failed := deliver(t, app, now.Add(61*time.Second)); failed != 1 {
		t.Fatal("second attempt should fail too")
	}
	// the wait doubles: 2 minutes after the second failure
	if sent, _ := deliver(t, app, now.Add(61*time.Second+90*time.Second)); sent != 0 {
		t.Fatal("retried before the doubled backoff")
	}
	if sent, _ := deliver(t, app, now.Add(61*time.Second+121*time.Second)); sent != 1 {
		t.Fatal("third attempt should succeed")
	}
	if got := ms.WaitFor(t, 1); len(got) != 1 || got[0].Subject != "[Salonbase] retry me" {
		t.Fatalf("received %v", got)
	}

	// a server that never accepts: failed after the last attempt
	if err := notify.Notify(app, []string{m.Id}, notify.Notification{Kind: "dm", Title: "never"}); err != nil {
		t.Fatal(err)
	}
	ms.FailNext(1000)
	clock := now.Add(time.Hour)
	for i := 0; i < 20; i++ {
		deliver(t, app, clock)
		clock = clock.Add(7 * time.Hour)
	}
	row, err = app.FindFirstRecordByData("email_outbox", "subject", "[Salonbase] never")
	if err != nil {
		t.Fatal(err)
	}
	if row.GetString("status") != "failed" || row.GetInt("attempts") != 8 {
		t.Fatalf("gave up: status %s attempts %d", row.GetString("status"), row.GetInt("attempts"))
	}
}

func TestNotificationsReadUnreadAndRealtime(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	me := testutil.Member(t, app, testutil.User{}, "en")
	other := testutil.Member(t, app, testutil.User{}, "en")
	token := testutil.Token(t, me)

	rt := srv.Subscribe(t, token, "notifications")
	defer rt.Close()
	rtOther := srv.Subscribe(t, testutil.Token(t, other), "notifications")
	defer rtOther.Close()
	rtRoot := srv.Subscribe(t, testutil.SuperuserToken(t, app), "notifications")
	defer rtRoot.Close()
	for i := 0; i < 3; i++ {
		if err := notify.Notify(app, []string{me.Id, other.Id}, notify.Notification{Kind: "mention", Title: "m"}); err != nil {
			t.Fatal(err)
		}
	}
	type message struct {
		Action string
		Record struct{ ID, User string }
	}
	// each member receives exactly their own notices live; a superuser all
	receive := func(rt *testutil.Realtime, n int) []message {
		t.Helper()
		var got []message
		for len(got) < n {
			ev, ok := rt.Next(5 * time.Second)
			if !ok {
				t.Fatalf("realtime: %d of %d messages", len(got), n)
			}
			got = append(got, testutil.Decode[message](t, ev.Data))
		}
		if ev, ok := rt.Next(200 * time.Millisecond); ok {
			t.Fatalf("unexpected extra message %s", ev.Data)
		}
		return got
	}
	for _, m := range receive(rt, 3) {
		if m.Action != "create" || m.Record.User != me.Id {
			t.Fatalf("my realtime message: %+v", m)
		}
	}
	for _, m := range receive(rtOther, 3) {
		if m.Record.User != other.Id {
			t.Fatalf("other's realtime message: %+v", m)
		}
	}
	if got := receive(rtRoot, 6); len(got) != 6 {
		t.Fatalf("superuser got %d", len(got))
	}

	count := func(tok string) int {
		t.Helper()
		status, body := srv.Do(t, "GET", "/api/salon/notifications/unread-count", tok, nil)
		if status != 200 {
			t.Fatalf("unread-count: %d %s", status, body)
		}
		return testutil.Decode[struct{ Count int }](t, body).Count
	}
	if n := count(token); n != 3 {
		t.Fatalf("unread: %d", n)
	}
	// mark one read through the stock API
	status, body := srv.Do(t, "GET", "/api/collections/notifications/records", token, nil)
	mine := testutil.Decode[testutil.List[struct{ ID string }]](t, body)
	if status != 200 || mine.TotalItems != 3 {
		t.Fatalf("list: %d %s", status, body)
	}
	if status, out := srv.Do(t, "PATCH", "/api/collections/notifications/records/"+mine.Items[0].ID, token, map[string]any{"read": true}); status != 200 {
		t.Fatalf("mark read: %d %s", status, out)
	}
	if n := count(token); n != 2 {
		t.Fatalf("unread after one read: %d", n)
	}
	if m := receive(rt, 1)[0]; m.Action != "update" || m.Record.ID != mine.Items[0].ID {
		t.Fatalf("mark read, live: %+v", m)
	}
	receive(rtRoot, 1)
	if ev, ok := rtOther.Next(100 * time.Millisecond); ok {
		t.Fatalf("another member saw my update: %s", ev.Data)
	}
	// another member cannot mark mine (404, as if it did not exist)
	if status, _ := srv.Do(t, "PATCH", "/api/collections/notifications/records/"+mine.Items[1].ID, testutil.Token(t, other), map[string]any{"read": true}); status != 404 {
		t.Fatalf("stranger marks my notice: %d", status)
	}
	status, body = srv.Do(t, "POST", "/api/salon/notifications/read-all", token, nil)
	if status != 200 || testutil.Decode[struct{ Updated int }](t, body).Updated != 2 {
		t.Fatalf("read-all: %d %s", status, body)
	}
	if n := count(token); n != 0 {
		t.Fatalf("unread after read-all: %d", n)
	}
	if n := count(testutil.Token(t, other)); n != 3 {
		t.Fatalf("read-all touched another member: %d unread left", n)
	}
	if status, _ := srv.Do(t, "GET", "/api/salon/notifications/unread-count", "", nil); status != 401 {
		t.Fatalf("unread-count without login: %d", status)
	}
	if status, _ := srv.Do(t, "POST", "/api/salon/notifications/read-all", "", nil); status != 401 {
		t.Fatalf("read-all without login: %d", status)
	}
}

func TestPruneNotificationsKeepsRecentOnes(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	m := testutil.Member(t, app, testutil.User{}, "en")
	testutil.UpdateSettings(t, app, map[string]any{"notify_retention_days": 30})
	if err := notify.Notify(app, []string{m.Id}, notify.Notification{Kind: "dm", Title: "recent"}); err != nil {
		t.Fatal(err)
	}
	if err := notify.Notify(app, []string{m.Id}, notify.Notification{Kind: "dm", Title: "old"}); err != nil {
		t.Fatal(err)
	}
	// age one notification and its sent e-mail
	old := time.Now().AddDate(0, 0, -40).UTC().Format("2006-01-02 15:04:05.000Z")
	if _, err := app.DB().NewQuery("UPDATE notifications SET created = {:c} WHERE title = 'old'").Bind(dbx.Params{"c": old}).Execute(); err != nil {
		t.Fatal(err)
	}
	if _, err := app.DB().NewQuery("UPDATE email_outbox SET status = 'sent', sent_at = {:c} WHERE subject LIKE '%old'").Bind(dbx.Params{"c": old}).Execute(); err != nil {
		t.Fatal(err)
	}
	if err := notify.PruneNotifications(app, time.Now()); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CountRecords(t, app, "notifications", dbx.HashExp{"title": "old"}); n != 0 {
		t.Fatalf("old notification kept: %d", n)
	}
	if n := testutil.CountRecords(t, app, "notifications", dbx.HashExp{"title": "recent"}); n != 1 {
		t.Fatalf("recent notification pruned: %d", n)
	}
	if n := testutil.CountRecords(t, app, "email_outbox", nil); n != 1 {
		t.Fatalf("outbox rows left: %d, want the pending one", n)
	}
}

func TestEventNoticeTitlesInTheMembersLanguage(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	ms := testutil.StartMailServer(t)
	testutil.UseMailServer(t, app, ms)
	org := testutil.Member(t, app, testutil.User{Role: "admin"}, "en")
	en := testutil.Member(t, app, testutil.User{Email: "en@example.com"}, "en")
	ja := testutil.Member(t, app, testutil.User{Email: "ja@example.com"}, "ja")
	testutil.NewEvent(t, app, org, map[string]any{"title": "忘年会"}) // published: announced to both

	titles := map[string]string{}
	for _, u := range []*core.Record{en, ja} {
		n, err := app.FindFirstRecordByFilter("notifications", "user = {:u} && kind = 'event'", dbx.Params{"u": u.Id})
		if err != nil {
			t.Fatal(err)
		}
		titles[u.GetString("lang")] = n.GetString("title")
	}
	if titles["en"] != "New event: 忘年会" || titles["ja"] != "新しいイベント: 忘年会" {
		t.Fatalf("titles %v", titles)
	}
	deliver(t, app, time.Now())
	for _, m := range ms.WaitFor(t, 2) {
		want := map[string]string{"en@example.com": "[Salonbase] New event: 忘年会", "ja@example.com": "[Salonbase] 新しいイベント: 忘年会"}[m.To[0]]
		if m.Subject != want {
			t.Fatalf("subject to %s: %q, want %q", m.To[0], m.Subject, want)
		}
	}
}

func TestAdminAnnouncementReachesMembersOfTheRank(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	admin := testutil.Member(t, app, testutil.User{Role: "admin"}, "en")
	free := testutil.Member(t, app, testutil.User{}, "en")
	gold := testutil.Member(t, app, testutil.User{Rank: "Gold"}, "ja")
	suspended := testutil.Member(t, app, testutil.User{Rank: "Gold", Suspended: true}, "en")
	const path = "/api/salon/notifications/announce"

	status, out := srv.Do(t, "POST", path, testutil.Token(t, admin), map[string]any{
		"title": "Gold lounge opens", "body": "Every Friday", "min_rank": testutil.RankID(t, app, "Gold")})
	if status != 202 {
		t.Fatalf("announce: %d %s", status, out)
	}
	salon.WaitBackground(app)
	for _, c := range []struct {
		who  *core.Record
		want int
	}{{admin, 1}, {gold, 1}, {free, 0}, {suspended, 0}} {
		if n := testutil.NoticesOf(t, app, c.who, "announcement"); n != c.want {
			t.Fatalf("%s: %d announcements, want %d", c.who.GetString("name"), n, c.want)
		}
	}
	if n := testutil.CountRecords(t, app, "email_outbox", dbx.HashExp{"kind": "announcement"}); n != 2 {
		t.Fatalf("announcement e-mails queued: %d", n)
	}

	for name, c := range map[string]struct {
		token  string
		body   map[string]any
		status int
	}{
		"member":       {testutil.Token(t, gold), map[string]any{"title": "x"}, 403},
		"anonymous":    {"", map[string]any{"title": "x"}, 401},
		"no title":     {testutil.Token(t, admin), map[string]any{"body": "x"}, 400},
		"unknown rank": {testutil.Token(t, admin), map[string]any{"title": "x", "min_rank": "nope"}, 400},
	} {
		if status, out := srv.Do(t, "POST", path, c.token, c.body); status != c.status {
			t.Fatalf("%s: %d %s", name, status, out)
		}
	}
	salon.WaitBackground(app)
	if n := testutil.CountRecords(t, app, "notifications", dbx.HashExp{"kind": "announcement"}); n != 2 {
		t.Fatalf("refused announcements wrote notices: %d in total", n)
	}
}

// Notices shown in the app only (tips, orders, missed calls, group
// invitations and hand-overs) have their
// title in the member's language too, filled with the sender's values; a
// notice whose values are missing keeps the sender's own title.
func TestAppOnlyNoticeTitlesInTheMembersLanguage(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	en := testutil.Member(t, app, testutil.User{}, "en")
	ja := testutil.Member(t, app, testutil.User{}, "ja")
	cases := []struct {
		n      notify.Notification
		en, ja string
	}{
		{notify.Notification{Kind: "tip_received", Title: "x", Vars: map[string]string{"FROM": "Aki"}},
			"Aki sent you a tip", "Akiさんから投げ銭が届きました"},
		{notify.Notification{Kind: "order_paid", Title: "x", Vars: map[string]string{"PRODUCT": "Tea"}},
			"Payment received: Tea", "お支払いを受け付けました: Tea"},
		{notify.Notification{Kind: "order_sold", Title: "x", Vars: map[string]string{"PRODUCT": "Tea"}},
			"You sold Tea", "Teaが売れました"},
		{notify.Notification{Kind: "missed_call", Title: "x", Vars: map[string]string{"CALLER": "Aki"}},
			"Missed call from Aki", "Akiさんからの不在着信"},
		{notify.Notification{Kind: "room_post", Title: "x", Vars: map[string]string{"AUTHOR": "Aki", "ROOM": "Lounge"}},
			"Aki in Lounge", "LoungeにAkiさんの新しい投稿"},
		{notify.Notification{Kind: "group_invite", Title: "x", Vars: map[string]string{"GROUP": "Tea club"}},
			"You are invited to the group Tea club", "グループ「Tea club」に招待されました"},
		{notify.Notification{Kind: "group_owner", Title: "x", Vars: map[string]string{"GROUP": "Tea club"}},
			"You now own the group Tea club", "グループ「Tea club」のオーナーになりました"},
		{notify.Notification{Kind: "missed_call", Title: "Missed call"}, "Missed call", "Missed call"},
	}
	for i, c := range cases {
		c.n.SourceCollection, c.n.SourceID = "calls", fmt.Sprintf("case%d", i)
		if err := notify.Notify(app, []string{en.Id, ja.Id}, c.n); err != nil {
			t.Fatal(err)
		}
		for _, u := range []*core.Record{en, ja} {
			n, err := app.FindFirstRecordByFilter("notifications", "user = {:u} && source_id = {:s}", dbx.Params{"u": u.Id, "s": c.n.SourceID})
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{"en": c.en, "ja": c.ja}[u.GetString("lang")]
			if got := n.GetString("title"); got != want {
				t.Errorf("%s for %s: title %q, want %q", c.n.Kind, u.GetString("lang"), got, want)
			}
		}
	}
}
