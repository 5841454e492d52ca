package events_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"salonbase/testutil"
)

type rsvpState struct {
	Status   string
	Position int
	Going    int
	Waitlist int
	Capacity int
}

// An event page asks GET .../rsvp for the member's own answer, the seats
// taken and the waitlist; a waiting member's subscription hears when their
// place moves, because the waitlist is re-saved when someone leaves it.
func TestMyRSVPStateAndLiveWaitlistPlace(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	org := testutil.Member(t, app, testutil.User{Role: "tutor"}, "en")
	first := testutil.Member(t, app, testutil.User{}, "en")
	second := testutil.Member(t, app, testutil.User{}, "en")
	third := testutil.Member(t, app, testutil.User{}, "en")
	free := testutil.Member(t, app, testutil.User{}, "en")
	ev := testutil.NewEvent(t, app, org, map[string]any{"capacity": 1})
	goldOnly := testutil.NewEvent(t, app, org, map[string]any{"min_rank": testutil.RankID(t, app, "Gold")})

	state := func(token string) rsvpState {
		t.Helper()
		status, out := srv.Do(t, "GET", "/api/salon/events/"+ev.Id+"/rsvp", token, nil)
		if status != 200 {
			t.Fatalf("rsvp state: %d %s", status, out)
		}
		return testutil.Decode[rsvpState](t, out)
	}
	if got := state(testutil.Token(t, free)); got != (rsvpState{Capacity: 1}) {
		t.Fatalf("before anyone answers: %+v", got)
	}
	for _, u := range []string{testutil.Token(t, first), testutil.Token(t, second), testutil.Token(t, third)} {
		if status, out := srv.Do(t, "POST", "/api/salon/events/"+ev.Id+"/rsvp", u, nil); status != 200 {
			t.Fatalf("rsvp: %d %s", status, out)
		}
	}
	if got := state(testutil.Token(t, third)); got != (rsvpState{Status: "waitlist", Position: 2, Going: 1, Waitlist: 2, Capacity: 1}) {
		t.Fatalf("third member: %+v", got)
	}
	if got := state(testutil.Token(t, first)); got.Status != "going" || got.Position != 0 {
		t.Fatalf("first member: %+v", got)
	}

	rt := srv.Subscribe(t, testutil.Token(t, third), "event_rsvps")
	if status, out := srv.Do(t, "DELETE", "/api/salon/events/"+ev.Id+"/rsvp", testutil.Token(t, first), nil); status != 200 {
		t.Fatalf("cancel: %d %s", status, out)
	}
	// the third member hears about their own RSVP (and nobody else's)
	ev1, ok := rt.Next(5 * time.Second)
	if !ok {
		t.Fatal("the waiting member heard nothing when their place moved")
	}
	var msg struct {
		Action string
		Record map[string]any
	}
	if err := json.Unmarshal(ev1.Data, &msg); err != nil {
		t.Fatal(err)
	}
	if msg.Action != "update" || msg.Record["user"] != third.Id {
		t.Fatalf("realtime: %s", ev1.Data)
	}
	if extra, ok := rt.Next(300 * time.Millisecond); ok {
		t.Fatalf("a member heard about another member's RSVP: %s", extra.Data)
	}
	if got := state(testutil.Token(t, third)); got != (rsvpState{Status: "waitlist", Position: 1, Going: 1, Waitlist: 1, Capacity: 1}) {
		t.Fatalf("third member after the cancel: %+v", got)
	}
	if got := state(testutil.Token(t, second)); got.Status != "going" {
		t.Fatalf("second member after the cancel: %+v", got)
	}
	if got := state(testutil.Token(t, first)); got.Status != "cancelled" {
		t.Fatalf("first member after the cancel: %+v", got)
	}

	// refused callers see nothing
	if status, _ := srv.Do(t, "GET", "/api/salon/events/"+ev.Id+"/rsvp", "", nil); status != 401 {
		t.Fatalf("anonymous: %d", status)
	}
	if status, out := srv.Do(t, "GET", "/api/salon/events/"+goldOnly.Id+"/rsvp", testutil.Token(t, free), nil); status != 404 || strings.Contains(string(out), "going") {
		t.Fatalf("below the event's rank: %d %s", status, out)
	}
	if status, _ := srv.Do(t, "GET", "/api/salon/events/nosuchevent1234/rsvp", testutil.Token(t, free), nil); status != 404 {
		t.Fatalf("unknown event: %d", status)
	}
	// refusals carry their codes
	if status, out := srv.Do(t, "DELETE", "/api/salon/events/"+ev.Id+"/rsvp", testutil.Token(t, free), nil); status != 400 || !strings.Contains(string(out), `"no_rsvp"`) {
		t.Fatalf("cancel without an RSVP: %d %s", status, out)
	}
	cancelled := testutil.NewEvent(t, app, org, map[string]any{"cancelled": true})
	if status, out := srv.Do(t, "POST", "/api/salon/events/"+cancelled.Id+"/rsvp", testutil.Token(t, free), nil); status != 400 || !strings.Contains(string(out), `"event_cancelled"`) {
		t.Fatalf("RSVP to a cancelled event: %d %s", status, out)
	}
	past := testutil.NewEvent(t, app, org, map[string]any{"starts_at": time.Now().Add(-2 * time.Hour)})
	if status, out := srv.Do(t, "POST", "/api/salon/events/"+past.Id+"/rsvp", testutil.Token(t, free), nil); status != 400 || !strings.Contains(string(out), `"event_over"`) {
		t.Fatalf("RSVP to a past event: %d %s", status, out)
	}
}
