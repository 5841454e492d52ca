package events_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"salonbase/hooks/salon"
	"salonbase/testutil"
)

// An event raised to a higher min_rank leaves the calendar feeds of the
// members below it, and its change notices (with the new place) go only
// to attendees who may still see it.
func TestEventRaisedAboveRankLeavesFeedsAndNotices(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	app.Settings().Meta.AppURL = srv.URL
	org := testutil.Member(t, app, testutil.User{Role: "admin"}, "en")
	free := testutil.Member(t, app, testutil.User{Rank: "Free"}, "en")
	gold := testutil.Member(t, app, testutil.User{Rank: "Gold"}, "en")
	ev := testutil.NewEvent(t, app, org, map[string]any{"title": "Open night", "location": "Hall A"})
	for _, u := range []string{testutil.Token(t, free), testutil.Token(t, gold)} {
		if status, out := srv.Do(t, "POST", "/api/salon/events/"+ev.Id+"/rsvp", u, nil); status != 200 {
			t.Fatalf("rsvp: %d %s", status, out)
		}
	}
	feed := func(token string) string {
		t.Helper()
		_, out := srv.Do(t, "GET", "/api/salon/calendar/feed-url", token, nil)
		res, err := http.Get(testutil.Decode[struct{ URL string }](t, out).URL)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return string(body)
	}
	if f := feed(testutil.Token(t, free)); !strings.Contains(f, "Open night") {
		t.Fatalf("the open event is missing from the feed: %s", f)
	}

	status, out := srv.Do(t, "PATCH", "/api/collections/events/records/"+ev.Id, testutil.Token(t, org),
		map[string]any{"min_rank": testutil.RankID(t, app, "Gold"), "location": "Secret cellar"})
	if status != 200 {
		t.Fatalf("raise: %d %s", status, out)
	}
	salon.WaitBackground(app)
	if f := feed(testutil.Token(t, free)); strings.Contains(f, "Open night") || strings.Contains(f, "Secret cellar") {
		t.Fatalf("a Free member's feed still shows the Gold event: %s", f)
	}
	if f := feed(testutil.Token(t, gold)); !strings.Contains(f, "Secret cellar") {
		t.Fatalf("a Gold member's feed lost the event: %s", f)
	}
	if n := testutil.NoticesOf(t, app, free, "event_changed"); n != 0 {
		t.Fatalf("a Free member was told the Gold event's new place: %d notices", n)
	}
	if n := testutil.NoticesOf(t, app, gold, "event_changed"); n != 1 {
		t.Fatalf("the Gold attendee: %d change notices, want 1", n)
	}
}
