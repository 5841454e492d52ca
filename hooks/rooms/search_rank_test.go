package rooms_test

import (
	"net/http"
	"strings"
	"testing"

	"salonbase/testutil"
)

// TestRoomSearchRanksTheRoomsOwnMatches: relevance puts the message that
// says the word most first (not the newest), another room's matches never
// show nor count, and the room's id (which the index also holds) is not
// searchable text.
func TestRoomSearchRanksTheRoomsOwnMatches(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	member := testutil.CreateUser(t, app, testutil.User{Rank: "Gold"})
	mt := testutil.Token(t, member)
	room := testutil.NewRoom(t, app, map[string]any{"name": "Kitchen"})
	other := testutil.NewRoom(t, app, map[string]any{"name": "Garden"})
	for _, p := range []struct{ room, body string }{
		{room.Id, "apple pie apple crumble apple juice"},
		{room.Id, "an apple"},
		{other.Id, "apple apple apple apple apple apple"},
		{room.Id, "banana bread"},
	} {
		if status, _ := testutil.Post(t, srv, mt, p.room, p.body); status != http.StatusOK {
			t.Fatalf("post %q: %d", p.body, status)
		}
	}
	search := func(room, sort, q string) (bodies string, total int) {
		status, raw := srv.Do(t, http.MethodGet, "/api/salon/rooms/"+room+"/search?sort="+sort+"&q="+testutil.Urlq(q), mt, nil)
		if status != http.StatusOK {
			t.Fatalf("search %q: %d %s", q, status, raw)
		}
		got := testutil.Decode[testutil.List[map[string]any]](t, raw)
		var out []string
		for _, m := range got.Items {
			out = append(out, m["body"].(string))
		}
		return strings.Join(out, "|"), got.TotalItems
	}
	for _, c := range []struct {
		room, sort, q, want string
	}{
		{room.Id, "relevance", "apple", "apple pie apple crumble apple juice|an apple"},
		{room.Id, "newest", "apple", "an apple|apple pie apple crumble apple juice"},
		{other.Id, "relevance", "apple", "apple apple apple apple apple apple"},
		{room.Id, "relevance", "banana apple", ""},
		{room.Id, "relevance", room.Id[:6], ""},
		{room.Id, "relevance", other.Id, ""},
	} {
		bodies, total := search(c.room, c.sort, c.q)
		if bodies != c.want || total != strings.Count(c.want, "|")+min(1, len(c.want)) {
			t.Errorf("%s search %q: want %q, got %q (total %d)", c.sort, c.q, c.want, bodies, total)
		}
	}
	// page 2 of the ranking continues it
	status, raw := srv.Do(t, http.MethodGet, "/api/salon/rooms/"+room.Id+"/search?perPage=1&page=2&q=apple", mt, nil)
	got := testutil.Decode[struct {
		testutil.List[map[string]any]
		TotalPages int `json:"totalPages"`
	}](t, raw)
	if status != http.StatusOK || len(got.Items) != 1 || got.Items[0]["body"] != "an apple" || got.TotalItems != 2 || got.TotalPages != 2 {
		t.Errorf("page 2 of the ranking: %d %s", status, raw)
	}
}
