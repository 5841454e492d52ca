package events_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/pocketbase/pocketbase/core"

	"salonbase/hooks/events"
	"salonbase/hooks/salon"
	"salonbase/testutil"
)

func TestCanCreateEvent(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	admin := testutil.CreateUser(t, app, testutil.User{Role: "admin"})
	tutor := testutil.CreateUser(t, app, testutil.User{Role: "tutor"})
	gold := testutil.CreateUser(t, app, testutil.User{Rank: "Gold"})
	silver := testutil.CreateUser(t, app, testutil.User{Rank: "Silver"})
	suspendedTutor := testutil.CreateUser(t, app, testutil.User{Role: "tutor", Suspended: true})
	guests, err := app.FindCollectionByNameOrId("guests")
	if err != nil {
		t.Fatal(err)
	}
	guest := core.NewRecord(guests)

	check := func(name string, user *core.Record, wantCode string) {
		t.Helper()
		err := events.CanCreateEvent(app, user)
		var d *salon.Refusal
		switch {
		case wantCode == "" && err != nil:
			t.Fatalf("%s: denied %v", name, err)
		case wantCode != "" && (!errors.As(err, &d) || d.Code != wantCode):
			t.Fatalf("%s: got %v, want %s", name, err, wantCode)
		}
	}
	check("admin", admin, "")
	check("tutor", tutor, "")
	check("member, no event rank set", gold, "organizers_only")
	check("suspended tutor", suspendedTutor, "not_member")
	check("guest", guest, "not_member")
	check("nobody", nil, "not_member")
	testutil.UpdateSettings(t, app, map[string]any{"event_create_min_rank": testutil.RankID(t, app, "Gold")})
	check("gold with min Gold", gold, "")
	check("silver with min Gold", silver, "rank_too_low")

	ev := core.NewRecord(core.NewBaseCollection("events"))
	ev.Set("organizer", tutor.Id)
	bySuspended := core.NewRecord(core.NewBaseCollection("events"))
	bySuspended.Set("organizer", suspendedTutor.Id)
	for name, c := range map[string]struct {
		who, ev *core.Record
		want    bool
	}{
		"admin":               {admin, ev, true},
		"organizer":           {tutor, ev, true},
		"another member":      {gold, ev, false},
		"suspended organizer": {suspendedTutor, bySuspended, false},
		"nobody":              {nil, ev, false},
	} {
		if got := events.CanManageEvent(c.who, c.ev); got != c.want {
			t.Fatalf("CanManageEvent %s = %v", name, got)
		}
	}
}

// GET /api/salon/events/can-create tells a client whether to offer "New
// event": yes for admins and tutors, and for members once
// event_create_min_rank is set and their rank reaches it; otherwise no, with
// the reason the create would give. Anonymous callers get 401.
func TestCanCreateRoute(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	type answer struct {
		Allowed bool
		Reason  *struct{ Code, Message string }
	}
	ask := func(token string) answer {
		t.Helper()
		status, out := srv.Do(t, "GET", "/api/salon/events/can-create", token, nil)
		if status != 200 {
			t.Fatalf("can-create: %d %s", status, out)
		}
		return testutil.Decode[answer](t, out)
	}
	admin := testutil.Member(t, app, testutil.User{Role: "admin"}, "en")
	tutor := testutil.Member(t, app, testutil.User{Role: "tutor"}, "en")
	gold := testutil.Member(t, app, testutil.User{Rank: "Gold"}, "en")
	silver := testutil.Member(t, app, testutil.User{Rank: "Silver"}, "en")
	for name, u := range map[string]string{"admin": testutil.Token(t, admin), "tutor": testutil.Token(t, tutor)} {
		if a := ask(u); !a.Allowed || a.Reason != nil {
			t.Fatalf("%s: %+v", name, a)
		}
	}
	if a := ask(testutil.Token(t, gold)); a.Allowed || a.Reason == nil || a.Reason.Code != "organizers_only" {
		t.Fatalf("member without an event rank: %+v", a)
	}
	testutil.UpdateSettings(t, app, map[string]any{"event_create_min_rank": testutil.RankID(t, app, "Gold")})
	if a := ask(testutil.Token(t, gold)); !a.Allowed {
		t.Fatalf("gold member with the event rank at Gold: %+v", a)
	}
	if a := ask(testutil.Token(t, silver)); a.Allowed || a.Reason == nil || a.Reason.Code != "rank_too_low" {
		t.Fatalf("silver member: %+v", a)
	}
	// what the route says is what the create does
	status, _ := srv.Do(t, "POST", "/api/collections/events/records", testutil.Token(t, silver), map[string]any{"title": "Tea", "kind": "other", "starts_at": "2030-12-01T19:00:00+09:00"})
	if status != 403 {
		t.Fatalf("silver member creates: %d", status)
	}
	if status, out := srv.Do(t, "GET", "/api/salon/events/can-create", "", nil); status != 401 || strings.Contains(string(out), "allowed") {
		t.Fatalf("anonymous: %d %s", status, out)
	}
}
