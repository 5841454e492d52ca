package events_test

import (
	"bytes"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-ical"
	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"

	"salonbase/hooks/events"
	"salonbase/hooks/salon"
	"salonbase/testutil"
)

func TestEventCreatePermissionsAndInput(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	admin := testutil.Member(t, app, testutil.User{Role: "admin"}, "en")
	tutor := testutil.Member(t, app, testutil.User{Role: "tutor"}, "en")
	gold := testutil.Member(t, app, testutil.User{Rank: "Gold"}, "en")
	silver := testutil.Member(t, app, testutil.User{Rank: "Silver"}, "en")
	const path = "/api/collections/events/records"
	body := func(extra map[string]any) map[string]any {
		b := map[string]any{"title": "Tea", "kind": "offline", "starts_at": "2030-12-01T19:00:00+09:00",
			"ends_at": "2030-12-01T21:00:00+09:00", "timezone": "Asia/Tokyo", "location": "Shibuya"}
		for k, v := range extra {
			b[k] = v
		}
		return b
	}

	status, out := srv.Do(t, "POST", path, testutil.Token(t, admin), body(map[string]any{"organizer": gold.Id}))
	if status != 200 {
		t.Fatalf("admin creates: %d %s", status, out)
	}
	ev := testutil.Decode[map[string]any](t, out)
	// admins (like superusers) may organize for another member
	if ev["organizer"] != gold.Id {
		t.Fatalf("organizer %v, want the member the admin named", ev["organizer"])
	}
	// others only for themselves
	if status, out := srv.Do(t, "POST", path, testutil.Token(t, tutor), body(map[string]any{"organizer": gold.Id})); status != 403 || !strings.Contains(string(out), "another organizer") {
		t.Fatalf("tutor creates for another organizer: %d %s", status, out)
	}
	// 19:00 in Tokyo is 10:00 UTC
	if ev["starts_at"] != "2030-12-01 10:00:00.000Z" {
		t.Fatalf("starts_at %v", ev["starts_at"])
	}
	if status, out := srv.Do(t, "POST", path, testutil.Token(t, tutor), body(nil)); status != 200 {
		t.Fatalf("tutor creates: %d %s", status, out)
	}
	// members only with the configured rank
	status, out = srv.Do(t, "POST", path, testutil.Token(t, gold), body(nil))
	if status != 403 || !strings.Contains(string(out), "Only admins and tutors") {
		t.Fatalf("member without an event rank: %d %s", status, out)
	}
	testutil.UpdateSettings(t, app, map[string]any{"event_create_min_rank": testutil.RankID(t, app, "Gold")})
	if status, out := srv.Do(t, "POST", path, testutil.Token(t, gold), body(nil)); status != 200 {
		t.Fatalf("gold member creates: %d %s", status, out)
	}
	if status, out := srv.Do(t, "POST", path, testutil.Token(t, silver), body(nil)); status != 403 || !strings.Contains(string(out), "rank") {
		t.Fatalf("silver member: %d %s", status, out)
	}
	if status, out := srv.Do(t, "POST", path, "", body(nil)); status != 401 || !strings.Contains(string(out), `"code":"login"`) {
		t.Fatalf("anonymous create: %d %s", status, out)
	}
	for name, bad := range map[string]map[string]any{
		"ends before it starts": {"ends_at": "2030-12-01T18:00:00+09:00"},
		"unknown time zone":     {"timezone": "Mars/Olympus"},
		"unknown kind":          {"kind": "party"},
		"no title":              {"title": ""},
	} {
		status, out := srv.Do(t, "POST", path, testutil.Token(t, admin), body(bad))
		if status != 400 {
			t.Fatalf("%s: %d %s", name, status, out)
		}
	}
	if n := testutil.CountRecords(t, app, "events", nil); n != 3 {
		t.Fatalf("events saved: %d, want 3", n)
	}
	// only the organizer or an admin edits
	_, out = srv.Do(t, "GET", path+"?filter="+testutil.Urlq("organizer='"+tutor.Id+"'"), testutil.Token(t, tutor), nil)
	tutorEvent := testutil.Decode[testutil.List[struct{ ID string }]](t, out).Items[0]
	if status, _ := srv.Do(t, "PATCH", path+"/"+tutorEvent.ID, testutil.Token(t, gold), map[string]any{"title": "mine"}); status != 404 {
		t.Fatalf("another member edits: %d", status)
	}
	testutil.WantStatus(t, srv, "PATCH", path+"/"+tutorEvent.ID, testutil.Token(t, tutor), map[string]any{"organizer": gold.Id}, 403, `"code":"admins_only"`)
	if status, out := srv.Do(t, "PATCH", path+"/"+tutorEvent.ID, testutil.Token(t, tutor), map[string]any{"title": "Tea 2"}); status != 200 {
		t.Fatalf("organizer edits: %d %s", status, out)
	}
}

func TestEventVisibilityByPublishedAndRank(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	org := testutil.Member(t, app, testutil.User{Role: "tutor"}, "en")
	free := testutil.Member(t, app, testutil.User{}, "en")
	gold := testutil.Member(t, app, testutil.User{Rank: "Gold"}, "en")
	draft := testutil.NewEvent(t, app, org, map[string]any{"published": false, "title": "Draft"})
	goldOnly := testutil.NewEvent(t, app, org, map[string]any{"min_rank": testutil.RankID(t, app, "Gold"), "title": "Gold night"})
	open := testutil.NewEvent(t, app, org, map[string]any{"title": "Open day"})

	titles := func(u *core.Record) []string {
		t.Helper()
		status, out := srv.Do(t, "GET", "/api/collections/events/records?sort=title", testutil.Token(t, u), nil)
		if status != 200 {
			t.Fatalf("list: %d %s", status, out)
		}
		var ts []string
		for _, it := range testutil.Decode[testutil.List[struct{ Title string }]](t, out).Items {
			ts = append(ts, it.Title)
		}
		return ts
	}
	if got := fmt.Sprint(titles(free)); got != "[Open day]" {
		t.Fatalf("free member sees %s", got)
	}
	if got := fmt.Sprint(titles(gold)); got != "[Gold night Open day]" {
		t.Fatalf("gold member sees %s", got)
	}
	if got := fmt.Sprint(titles(org)); got != "[Draft Gold night Open day]" {
		t.Fatalf("organizer sees %s", got)
	}
	if status, out := srv.Do(t, "GET", "/api/collections/events/records", "", nil); status != 200 || testutil.Decode[testutil.List[any]](t, out).TotalItems != 0 {
		t.Fatalf("anonymous visitors see events: %d %s", status, out)
	}
	// RSVP to what one cannot see: 404; to a draft (organizer): 400
	if status, _ := srv.Do(t, "POST", "/api/salon/events/"+goldOnly.Id+"/rsvp", testutil.Token(t, free), nil); status != 404 {
		t.Fatalf("free member RSVPs to a gold event: %d", status)
	}
	if status, _ := srv.Do(t, "POST", "/api/salon/events/"+draft.Id+"/rsvp", testutil.Token(t, free), nil); status != 404 {
		t.Fatalf("RSVP to a draft: %d", status)
	}
	if status, _ := srv.Do(t, "POST", "/api/salon/events/"+open.Id+"/rsvp", "", nil); status != 401 {
		t.Fatalf("anonymous RSVP: %d", status)
	}
	if status, out := srv.Do(t, "POST", "/api/salon/events/"+goldOnly.Id+"/rsvp", testutil.Token(t, gold), nil); status != 200 {
		t.Fatalf("gold RSVP: %d %s", status, out)
	}
	past := testutil.NewEvent(t, app, org, map[string]any{"starts_at": time.Now().Add(-2 * time.Hour)})
	if status, out := srv.Do(t, "POST", "/api/salon/events/"+past.Id+"/rsvp", testutil.Token(t, free), nil); status != 400 || !strings.Contains(string(out), "over") {
		t.Fatalf("RSVP to a past event: %d %s", status, out)
	}
}

func TestRSVPRaceForTheLastSeatsThenWaitlistPromotion(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	org := testutil.Member(t, app, testutil.User{Role: "admin"}, "en")
	ev := testutil.NewEvent(t, app, org, map[string]any{"capacity": 3})
	const racers = 12
	members := make([]*core.Record, racers)
	tokens := make([]string, racers)
	for i := range members {
		members[i] = testutil.Member(t, app, testutil.User{}, "en")
		tokens[i] = testutil.Token(t, members[i])
	}

	type result struct {
		Status   string
		Position int
	}
	results := make([]result, racers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range members {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			status, out := srv.Do(t, "POST", "/api/salon/events/"+ev.Id+"/rsvp", tokens[i], nil)
			if status != 200 {
				t.Errorf("rsvp %d: %d %s", i, status, out)
				return
			}
			results[i] = testutil.Decode[result](t, out)
		}(i)
	}
	close(start)
	wg.Wait()
	if t.Failed() {
		return
	}
	var going, positions []int
	for i, r := range results {
		switch r.Status {
		case "going":
			going = append(going, i)
		case "waitlist":
			positions = append(positions, r.Position)
		default:
			t.Fatalf("racer %d: %+v", i, r)
		}
	}
	sort.Ints(positions)
	if len(going) != 3 || fmt.Sprint(positions) != "[1 2 3 4 5 6 7 8 9]" {
		t.Fatalf("going %v, waitlist positions %v", going, positions)
	}
	if n := testutil.CountRecords(t, app, "event_rsvps", dbx.HashExp{"event": ev.Id, "status": "going"}); n != 3 {
		t.Fatalf("going in the database: %d", n)
	}
	// asking again changes nothing
	status, out := srv.Do(t, "POST", "/api/salon/events/"+ev.Id+"/rsvp", tokens[going[0]], nil)
	if status != 200 || testutil.Decode[result](t, out).Status != "going" {
		t.Fatalf("repeat RSVP: %d %s", status, out)
	}

	// a going member cancels: waitlist position 1 gets the seat and is told
	first := -1
	for i, r := range results {
		if r.Status == "waitlist" && r.Position == 1 {
			first = i
		}
	}
	if status, out := srv.Do(t, "DELETE", "/api/salon/events/"+ev.Id+"/rsvp", tokens[going[0]], nil); status != 200 {
		t.Fatalf("cancel: %d %s", status, out)
	}
	status, out = srv.Do(t, "POST", "/api/salon/events/"+ev.Id+"/rsvp", tokens[first], nil)
	if status != 200 || testutil.Decode[result](t, out).Status != "going" {
		t.Fatalf("first on the waitlist after a cancellation: %d %s", status, out)
	}
	if n := testutil.NoticesOf(t, app, members[first], "waitlist_promoted"); n != 1 {
		t.Fatalf("promotion notices: %d", n)
	}
	if n := testutil.CountRecords(t, app, "notifications", dbx.HashExp{"kind": "waitlist_promoted"}); n != 1 {
		t.Fatalf("promotion notices in total: %d", n)
	}
	if status, _ := srv.Do(t, "DELETE", "/api/salon/events/"+ev.Id+"/rsvp", tokens[going[0]], nil); status != 400 {
		t.Fatalf("cancel twice: %d", status)
	}

	// the organizer raises the capacity: the next two in line move up, in order
	if status, out := srv.Do(t, "PATCH", "/api/collections/events/records/"+ev.Id, testutil.Token(t, org), map[string]any{"capacity": 5}); status != 200 {
		t.Fatalf("raise capacity: %d %s", status, out)
	}
	salon.WaitBackground(app)
	for i, r := range results {
		want := "waitlist"
		switch {
		case i == going[0]:
			want = "cancelled"
		case r.Status == "going" || r.Position <= 3:
			want = "going"
		}
		rec, err := app.FindFirstRecordByFilter("event_rsvps", "event = {:e} && user = {:u}", dbx.Params{"e": ev.Id, "u": members[i].Id})
		if err != nil {
			t.Fatal(err)
		}
		if got := rec.GetString("status"); got != want {
			t.Fatalf("member with %+v: %s, want %s", r, got, want)
		}
	}
	// lowering it keeps everyone who is going
	if status, _ := srv.Do(t, "PATCH", "/api/collections/events/records/"+ev.Id, testutil.Token(t, org), map[string]any{"capacity": 1}); status != 200 {
		t.Fatal("lower capacity")
	}
	salon.WaitBackground(app)
	if n := testutil.CountRecords(t, app, "event_rsvps", dbx.HashExp{"event": ev.Id, "status": "going"}); n != 5 {
		t.Fatalf("going after lowering the capacity: %d, want 5", n)
	}
}

func TestPublishingNotifiesEligibleMembersAndFollowersOnce(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	org := testutil.Member(t, app, testutil.User{Role: "tutor"}, "en")
	freeFollower := testutil.Member(t, app, testutil.User{}, "en")
	silver := testutil.Member(t, app, testutil.User{Rank: "Silver"}, "en")
	goldFollower := testutil.Member(t, app, testutil.User{Rank: "Gold"}, "en")
	admin := testutil.Member(t, app, testutil.User{Role: "admin"}, "en")
	suspended := testutil.Member(t, app, testutil.User{Rank: "Gold", Suspended: true}, "en")
	for _, f := range []*core.Record{freeFollower, goldFollower} {
		if status, out := srv.Do(t, "POST", "/api/collections/follows/records", testutil.Token(t, f), map[string]any{"followee": org.Id}); status != 200 {
			t.Fatalf("follow: %d %s", status, out)
		}
	}
	ev := testutil.NewEvent(t, app, org, map[string]any{"published": false, "min_rank": testutil.RankID(t, app, "Silver")})
	if n := testutil.CountRecords(t, app, "notifications", dbx.HashExp{"kind": "event"}); n != 0 {
		t.Fatalf("a draft announced: %d", n)
	}
	patch := func(v map[string]any) {
		t.Helper()
		if status, out := srv.Do(t, "PATCH", "/api/collections/events/records/"+ev.Id, testutil.Token(t, org), v); status != 200 {
			t.Fatalf("patch %v: %d %s", v, status, out)
		}
		salon.WaitBackground(app)
	}
	patch(map[string]any{"published": true})
	for _, c := range []struct {
		who  *core.Record
		want int
	}{{silver, 1}, {goldFollower, 1}, {admin, 1}, {freeFollower, 0}, {org, 0}, {suspended, 0}} {
		if n := testutil.NoticesOf(t, app, c.who, "event"); n != c.want {
			t.Fatalf("%s: %d announcements, want %d", c.who.GetString("name"), n, c.want)
		}
	}
	// unpublish and publish again: no second announcement
	patch(map[string]any{"published": false})
	patch(map[string]any{"published": true})
	if n := testutil.CountRecords(t, app, "notifications", dbx.HashExp{"kind": "event"}); n != 3 {
		t.Fatalf("announcements after re-publishing: %d, want 3", n)
	}
	// the announcement e-mail is queued for verified members
	if n := testutil.CountRecords(t, app, "email_outbox", dbx.HashExp{"kind": "event"}); n != 3 {
		t.Fatalf("announcement e-mails queued: %d", n)
	}
}

func TestEventChangesAndCancellationNotifyAttendees(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	org := testutil.Member(t, app, testutil.User{Role: "admin"}, "en")
	goer := testutil.Member(t, app, testutil.User{}, "en")
	waiter := testutil.Member(t, app, testutil.User{}, "en")
	quitter := testutil.Member(t, app, testutil.User{}, "en")
	bystander := testutil.Member(t, app, testutil.User{}, "en")
	ev := testutil.NewEvent(t, app, org, map[string]any{"capacity": 1})
	for _, u := range []*core.Record{goer, waiter, quitter} {
		if status, out := srv.Do(t, "POST", "/api/salon/events/"+ev.Id+"/rsvp", testutil.Token(t, u), nil); status != 200 {
			t.Fatalf("rsvp: %d %s", status, out)
		}
	}
	if status, _ := srv.Do(t, "DELETE", "/api/salon/events/"+ev.Id+"/rsvp", testutil.Token(t, quitter), nil); status != 200 {
		t.Fatal("cancel")
	}
	patch := func(v map[string]any) {
		t.Helper()
		if status, out := srv.Do(t, "PATCH", "/api/collections/events/records/"+ev.Id, testutil.Token(t, org), v); status != 200 {
			t.Fatalf("patch %v: %d %s", v, status, out)
		}
		salon.WaitBackground(app)
	}
	patch(map[string]any{"description": "<p>Bring snacks</p>"}) // not worth a notice
	patch(map[string]any{"location": "Room B"})
	patch(map[string]any{"cancelled": true})
	for _, c := range []struct {
		who              *core.Record
		changed, cancels int
	}{{goer, 1, 1}, {waiter, 1, 1}, {quitter, 0, 0}, {bystander, 0, 0}} {
		if n := testutil.NoticesOf(t, app, c.who, "event_changed"); n != c.changed {
			t.Fatalf("%s: %d change notices, want %d", c.who.GetString("name"), n, c.changed)
		}
		if n := testutil.NoticesOf(t, app, c.who, "event_cancelled"); n != c.cancels {
			t.Fatalf("%s: %d cancel notices, want %d", c.who.GetString("name"), n, c.cancels)
		}
	}
	// deleting an upcoming event tells its attendees too
	ev2 := testutil.NewEvent(t, app, org, nil)
	if status, _ := srv.Do(t, "POST", "/api/salon/events/"+ev2.Id+"/rsvp", testutil.Token(t, bystander), nil); status != 200 {
		t.Fatal("rsvp ev2")
	}
	if status, out := srv.Do(t, "DELETE", "/api/collections/events/records/"+ev2.Id, testutil.Token(t, org), nil); status != 204 {
		t.Fatalf("delete: %d %s", status, out)
	}
	if n := testutil.NoticesOf(t, app, bystander, "event_cancelled"); n != 1 {
		t.Fatalf("delete notices: %d", n)
	}
}

func TestEventRemindersFireOnceEach(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	org := testutil.Member(t, app, testutil.User{Role: "admin"}, "en")
	goer := testutil.Member(t, app, testutil.User{}, "en")
	waiter := testutil.Member(t, app, testutil.User{}, "en")
	now := time.Now().UTC().Truncate(time.Second)
	ev := testutil.NewEvent(t, app, org, map[string]any{"starts_at": now.Add(30 * time.Hour), "capacity": 1})
	rsvpAs(t, app, ev, goer, "going")
	rsvpAs(t, app, ev, waiter, "waitlist")

	run := func(at time.Time) int {
		t.Helper()
		n, err := events.SendEventReminders(app, at)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := run(now); n != 0 {
		t.Fatalf("30 h before: %d reminders", n)
	}
	if n := run(now.Add(7 * time.Hour)); n != 1 {
		t.Fatalf("23 h before: %d reminders, want the 24 h one", n)
	}
	if n := run(now.Add(7*time.Hour + 5*time.Minute)); n != 0 {
		t.Fatalf("the 24 h reminder fired again: %d", n)
	}
	if n := run(now.Add(29*time.Hour + 10*time.Minute)); n != 1 {
		t.Fatalf("50 min before: %d reminders, want the 1 h one", n)
	}
	for i := 0; i < 3; i++ {
		if n := run(now.Add(29*time.Hour + 20*time.Minute)); n != 0 {
			t.Fatalf("the 1 h reminder fired again: %d", n)
		}
	}
	if n := testutil.NoticesOf(t, app, goer, "event_reminder"); n != 2 {
		t.Fatalf("going member got %d reminders, want 2", n)
	}
	if n := testutil.NoticesOf(t, app, waiter, "event_reminder"); n != 0 {
		t.Fatalf("waitlisted member got %d reminders", n)
	}

	// moved to a later time: both reminders again for the new time
	ev, _ = app.FindRecordById("events", ev.Id)
	ev.Set("starts_at", now.Add(60*time.Hour))
	if err := app.Save(ev); err != nil {
		t.Fatal(err)
	}
	salon.WaitBackground(app)
	if n := run(now.Add(37 * time.Hour)); n != 1 {
		t.Fatalf("after a move, 23 h before: %d", n)
	}

	// created 30 minutes before it starts: only the 1 h reminder
	soon := testutil.NewEvent(t, app, org, map[string]any{"starts_at": now.Add(30 * time.Minute)})
	rsvpAs(t, app, soon, waiter, "going")
	if n := run(now); n != 1 {
		t.Fatalf("a late event: %d reminders, want 1", n)
	}
	if n := run(now.Add(time.Minute)); n != 0 {
		t.Fatalf("a late event reminded again: %d", n)
	}
	if n := testutil.NoticesOf(t, app, waiter, "event_reminder"); n != 1 {
		t.Fatalf("late event reminders: %d", n)
	}
	// cancelled events are not reminded
	off := testutil.NewEvent(t, app, org, map[string]any{"starts_at": now.Add(2 * time.Hour), "cancelled": true})
	rsvpAs(t, app, off, goer, "going")
	if n := run(now.Add(90 * time.Minute)); n != 0 {
		t.Fatalf("cancelled event reminded: %d", n)
	}
}

func rsvpAs(t testing.TB, app core.App, ev, user *core.Record, status string) {
	t.Helper()
	c, err := app.FindCollectionByNameOrId("event_rsvps")
	if err != nil {
		t.Fatal(err)
	}
	r := testutil.NewRecord(c, map[string]any{"event": ev.Id, "user": user.Id, "status": status, "waitlisted_at": time.Now()})
	if err := app.Save(r); err != nil {
		t.Fatal(err)
	}
}

func parseICS(t testing.TB, raw []byte) *ical.Calendar {
	t.Helper()
	// RFC 5545 3.1: CRLF line ends, content lines at most 75 octets
	if !bytes.HasSuffix(raw, []byte("\r\n")) {
		t.Fatal("calendar does not end with CRLF")
	}
	for i, line := range bytes.Split(bytes.TrimSuffix(raw, []byte("\r\n")), []byte("\r\n")) {
		if bytes.ContainsAny(line, "\r\n") {
			t.Fatalf("line %d has a bare CR or LF: %q", i, line)
		}
		if len(line) > 75 {
			t.Fatalf("line %d is %d octets: %q", i, len(line), line)
		}
	}
	cal, err := ical.NewDecoder(bytes.NewReader(raw)).Decode()
	if err != nil {
		t.Fatalf("decode: %v\n%s", err, raw)
	}
	// the library's encoder checks the required properties (PRODID,
	// VERSION, exactly one UID and DTSTAMP per VEVENT …)
	if err := ical.NewEncoder(new(bytes.Buffer)).Encode(cal); err != nil {
		t.Fatalf("invalid calendar: %v", err)
	}
	return cal
}

func TestEventICSParsesBackAndKeepsTheTimeZone(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	app.Settings().Meta.AppURL = "https://salon.example.com"
	org := testutil.Member(t, app, testutil.User{Role: "admin"}, "en")
	free := testutil.Member(t, app, testutil.User{}, "en")
	long := strings.Repeat("日本語の説明文です、とても長い; ", 12)
	ev := testutil.NewEvent(t, app, org, map[string]any{
		"title": "忘年会, 2030", "starts_at": "2030-12-20T19:00:00+09:00", "ends_at": "2030-12-20T21:30:00+09:00",
		"timezone": "Asia/Tokyo", "location": "Shibuya; 3F", "description": "<p>" + long + "</p>",
	})
	goldOnly := testutil.NewEvent(t, app, org, map[string]any{"min_rank": testutil.RankID(t, app, "Gold")})

	status, raw := srv.Do(t, "GET", "/api/salon/events/"+ev.Id+"/ics", testutil.Token(t, free), nil)
	if status != 200 {
		t.Fatalf("ics: %d %s", status, raw)
	}
	cal := parseICS(t, raw)
	events := cal.Events()
	if len(events) != 1 {
		t.Fatalf("%d VEVENTs", len(events))
	}
	e := events[0]
	start, err := e.DateTimeStart(time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	end, _ := e.DateTimeEnd(time.UTC)
	if !start.Equal(time.Date(2030, 12, 20, 10, 0, 0, 0, time.UTC)) || end.Sub(start) != 150*time.Minute {
		t.Fatalf("start %v end %v", start, end)
	}
	summary, _ := e.Props.Text(ical.PropSummary)
	location, _ := e.Props.Text(ical.PropLocation)
	desc, _ := e.Props.Text(ical.PropDescription)
	uid, _ := e.Props.Text(ical.PropUID)
	if summary != "忘年会, 2030" || location != "Shibuya; 3F" || desc != strings.TrimSpace(long) {
		t.Fatalf("text round trip: %q %q %q", summary, location, desc)
	}
	if uid != "event-"+ev.Id+"@salon.example.com" {
		t.Fatalf("uid %q", uid)
	}
	if _, err := e.Props.DateTime(ical.PropDateTimeStamp, time.UTC); err != nil {
		t.Fatalf("DTSTAMP: %v", err)
	}

	if status, _ := srv.Do(t, "GET", "/api/salon/events/"+goldOnly.Id+"/ics", testutil.Token(t, free), nil); status != 404 {
		t.Fatalf("ics of an event the member cannot see: %d", status)
	}
	if status, _ := srv.Do(t, "GET", "/api/salon/events/"+ev.Id+"/ics", "", nil); status != 401 {
		t.Fatalf("ics without login: %d", status)
	}
}

func TestPersonalCalendarFeedWithSignedURL(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	app.Settings().Meta.AppURL = srv.URL
	org := testutil.Member(t, app, testutil.User{Role: "admin"}, "en")
	me := testutil.Member(t, app, testutil.User{}, "en")
	other := testutil.Member(t, app, testutil.User{}, "en")
	going := testutil.NewEvent(t, app, org, map[string]any{"title": "Going"})
	waiting := testutil.NewEvent(t, app, org, map[string]any{"title": "Waiting"})
	called := testutil.NewEvent(t, app, org, map[string]any{"title": "Called off"})
	testutil.NewEvent(t, app, org, map[string]any{"title": "Not mine"})
	rsvpAs(t, app, going, me, "going")
	rsvpAs(t, app, waiting, me, "waitlist")
	rsvpAs(t, app, called, me, "going")
	called.Set("cancelled", true)
	if err := app.Save(called); err != nil {
		t.Fatal(err)
	}
	salon.WaitBackground(app)

	status, out := srv.Do(t, "GET", "/api/salon/calendar/feed-url", testutil.Token(t, me), nil)
	if status != 200 {
		t.Fatalf("feed-url: %d %s", status, out)
	}
	feed := testutil.Decode[struct{ URL, Webcal string }](t, out)
	if !strings.HasPrefix(feed.URL, srv.URL+"/api/salon/calendar/"+me.Id+"/") || !strings.HasPrefix(feed.Webcal, "webcal://") {
		t.Fatalf("feed urls %+v", feed)
	}
	// a calendar app fetches it with no login
	res, err := http.Get(feed.URL)
	if err != nil {
		t.Fatal(err)
	}
	raw := new(bytes.Buffer)
	raw.ReadFrom(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/calendar") {
		t.Fatalf("feed: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	got := map[string]string{}
	for _, e := range parseICS(t, raw.Bytes()).Events() {
		s, _ := e.Props.Text(ical.PropSummary)
		st, _ := e.Props.Text(ical.PropStatus)
		got[s] = st
	}
	if fmt.Sprint(got) != "map[Called off:CANCELLED Going:CONFIRMED Waiting:CONFIRMED]" {
		t.Fatalf("feed events %v", got)
	}
	// another member's id with my signature, or a broken signature: 403
	sig := feed.URL[strings.LastIndex(feed.URL, "/")+1:]
	for _, p := range []string{"/api/salon/calendar/" + other.Id + "/" + sig, "/api/salon/calendar/" + me.Id + "/" + sig[:20]} {
		if status, _ := srv.Do(t, "GET", p, "", nil); status != 403 {
			t.Fatalf("%s: %d", p, status)
		}
	}
	if status, _ := srv.Do(t, "GET", "/api/salon/calendar/feed-url", "", nil); status != 401 {
		t.Fatalf("feed-url without login: %d", status)
	}

	// a leaked URL is revoked by a reset; the new one works
	status, out = srv.Do(t, "POST", "/api/salon/calendar/reset", testutil.Token(t, me), nil)
	fresh := testutil.Decode[struct{ URL string }](t, out)
	if status != 200 || fresh.URL == feed.URL || fresh.URL == "" {
		t.Fatalf("reset: %d %s", status, out)
	}
	oldPath, newPath := strings.TrimPrefix(feed.URL, srv.URL), strings.TrimPrefix(fresh.URL, srv.URL)
	if status, _ := srv.Do(t, "GET", oldPath, "", nil); status != 403 {
		t.Fatalf("old feed URL after a reset: %d", status)
	}
	if status, _ := srv.Do(t, "GET", newPath, "", nil); status != 200 {
		t.Fatalf("new feed URL: %d", status)
	}
	// the key never leaves the server
	_, out = srv.Do(t, "GET", "/api/collections/users/records/"+me.Id, testutil.Token(t, me), nil)
	if strings.Contains(string(out), "calendar_key") {
		t.Fatalf("calendar_key exposed: %s", out)
	}
	if status, _ := srv.Do(t, "POST", "/api/salon/calendar/reset", "", nil); status != 401 {
		t.Fatalf("reset without login: %d", status)
	}
}

func TestAttendeeListAndCSVForAdminsAndOrganizer(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	admin := testutil.Member(t, app, testutil.User{Role: "admin"}, "en")
	tutor := testutil.Member(t, app, testutil.User{Role: "tutor"}, "en")
	a := testutil.Member(t, app, testutil.User{Name: "=HYPERLINK(1)", Email: "a@example.com", Rank: "Gold"}, "en")
	b := testutil.Member(t, app, testutil.User{Name: "山田", Email: "b@example.com"}, "ja")
	ev := testutil.NewEvent(t, app, tutor, map[string]any{"capacity": 1})
	for _, u := range []*core.Record{a, b} {
		if status, _ := srv.Do(t, "POST", "/api/salon/events/"+ev.Id+"/rsvp", testutil.Token(t, u), nil); status != 200 {
			t.Fatal("rsvp")
		}
	}
	base := "/api/salon/events/" + ev.Id + "/attendees"

	status, out := srv.Do(t, "GET", base, testutil.Token(t, admin), nil)
	if status != 200 || !strings.Contains(string(out), `"going":1`) || !strings.Contains(string(out), "a@example.com") {
		t.Fatalf("admin list: %d %s", status, out)
	}
	status, out = srv.Do(t, "GET", base, testutil.Token(t, tutor), nil)
	if status != 200 || !strings.Contains(string(out), "山田") || strings.Contains(string(out), "@example.com") {
		t.Fatalf("organizer list (no e-mails): %d %s", status, out)
	}
	status, out = srv.Do(t, "GET", base+".csv", testutil.Token(t, admin), nil)
	want := "\uFEFFname,email,rank,status,rsvp_at,waitlist_position\n'=HYPERLINK(1),a@example.com,Gold,going,"
	if status != 200 || !strings.HasPrefix(string(out), want) || !strings.Contains(string(out), "山田,b@example.com,Free,waitlist,") {
		t.Fatalf("csv: %d\n%s", status, out)
	}
	for name, tok := range map[string]string{"attendee": testutil.Token(t, a), "anonymous": ""} {
		status, out := srv.Do(t, "GET", base+".csv", tok, nil)
		if want := map[bool]int{true: 401, false: 403}[tok == ""]; status != want || strings.Contains(string(out), "example.com") {
			t.Fatalf("%s: %d %s", name, status, out)
		}
	}
}
