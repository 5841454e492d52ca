package events_test

import (
	"encoding/json"
	"testing"
	"time"

	"salonbase/hooks/events"
	"salonbase/testutil"
)

// An event page hears the seats taken and the waitlist change live when
// other members answer (salon_event_seats/ID); a member whose rank is below
// the event and an anonymous client subscribed to the same topic hear
// nothing.
func TestSeatCountsLiveForThoseWhoMaySeeTheEvent(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	org := testutil.Member(t, app, testutil.User{Role: "tutor"}, "en")
	watcher := testutil.Member(t, app, testutil.User{Rank: "Gold"}, "en")
	low := testutil.Member(t, app, testutil.User{}, "en")
	first := testutil.Member(t, app, testutil.User{Rank: "Gold"}, "en")
	second := testutil.Member(t, app, testutil.User{Rank: "Gold"}, "en")
	ev := testutil.NewEvent(t, app, org, map[string]any{"capacity": 1, "min_rank": testutil.RankID(t, app, "Gold")})
	topic := events.SeatsTopicPrefix + ev.Id

	seen := srv.Subscribe(t, testutil.Token(t, watcher), topic)
	hidden := srv.Subscribe(t, testutil.Token(t, low), topic)
	anon := srv.Subscribe(t, "", topic)

	next := func(want string) map[string]any {
		t.Helper()
		got, ok := seen.Next(5 * time.Second)
		if !ok {
			t.Fatalf("no seat counts after %s", want)
		}
		if got.Topic != topic {
			t.Fatalf("topic %q, want %q", got.Topic, topic)
		}
		var m map[string]any
		if err := json.Unmarshal(got.Data, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	rsvp := func(method, token string) {
		t.Helper()
		if status, out := srv.Do(t, method, "/api/salon/events/"+ev.Id+"/rsvp", token, nil); status != 200 {
			t.Fatalf("%s rsvp: %d %s", method, status, out)
		}
	}

	rsvp("POST", testutil.Token(t, first))
	if m := next("the first RSVP"); m["going"] != 1.0 || m["waitlist"] != 0.0 || m["capacity"] != 1.0 || m["event"] != ev.Id {
		t.Fatalf("after the first RSVP: %v", m)
	}
	rsvp("POST", testutil.Token(t, second))
	if m := next("the second RSVP"); m["going"] != 1.0 || m["waitlist"] != 1.0 {
		t.Fatalf("after the second RSVP: %v", m)
	}
	rsvp("DELETE", testutil.Token(t, first))
	if m := next("a cancellation"); m["going"] != 1.0 || m["waitlist"] != 0.0 {
		t.Fatalf("after the first member cancelled (the second promoted): %v", m)
	}
	for name, rt := range map[string]*testutil.Realtime{"a member below the event's rank": hidden, "an anonymous client": anon} {
		if got, ok := rt.Next(300 * time.Millisecond); ok {
			t.Fatalf("%s heard the seats of an event they cannot see: %s %s", name, got.Topic, got.Data)
		}
	}
}
