package rooms_test

import (
	"net/http"
	"sort"
	"strings"
	"testing"

	"salonbase/testutil"
)

// TestRoomSearchTwoWords: a search of several words finds exactly the
// room's messages holding all of them, as the index folds case (ASCII
// either way; Ä and ä alike, ß not ss, as the index itself says), whichever
// word is the rarer, newest first or ranked, and never another room's.
func TestRoomSearchTwoWords(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	member := testutil.CreateUser(t, app, testutil.User{Rank: "Gold"})
	mt := testutil.Token(t, member)
	room := testutil.NewRoom(t, app, map[string]any{"name": "Kitchen"})
	other := testutil.NewRoom(t, app, map[string]any{"name": "Garden"})
	bodies := []struct{ room, body string }{
		{room.Id, "apple pie with cinnamon"},
		{room.Id, "APPLE and Cinnamon tea"},
		{room.Id, "apple crumble"},
		{room.Id, "apple juice"},
		{room.Id, "cinnamon roll"},
		{room.Id, "Äpfel mit Zimt und Straße"},
		{room.Id, "äpfel ohne zimt"},
		{room.Id, "会議資料 の 確認事項"},
		{room.Id, "会議資料 だけ"},
		{other.Id, "apple cinnamon in another room"},
	}
	for _, p := range bodies {
		if status, _ := testutil.Post(t, srv, mt, p.room, p.body); status != http.StatusOK {
			t.Fatalf("post %q: %d", p.body, status)
		}
	}
	search := func(sort, q string) []string {
		status, raw := srv.Do(t, http.MethodGet, "/api/salon/rooms/"+room.Id+"/search?sort="+sort+"&q="+testutil.Urlq(q), mt, nil)
		if status != http.StatusOK {
			t.Fatalf("search %q: %d %s", q, status, raw)
		}
		got := testutil.Decode[testutil.List[map[string]any]](t, raw)
		var out []string
		for _, m := range got.Items {
			out = append(out, m["body"].(string))
		}
		if got.TotalItems != len(out) {
			t.Errorf("search %q: totalItems %d for %d items", q, got.TotalItems, len(out))
		}
		return out
	}
	for _, c := range []struct {
		q    string
		want []string // newest first
	}{
		{"apple cinnamon", []string{"APPLE and Cinnamon tea", "apple pie with cinnamon"}},
		{"CINNAMON Apple", []string{"APPLE and Cinnamon tea", "apple pie with cinnamon"}},
		{"apple cinnamon pie", []string{"apple pie with cinnamon"}},
		{"äpfel zimt", []string{"äpfel ohne zimt", "Äpfel mit Zimt und Straße"}},
		{"ÄPFEL STRASSE", nil},
		{"Äpfel Straße", []string{"Äpfel mit Zimt und Straße"}},
		{"会議資料 確認事項", []string{"会議資料 の 確認事項"}},
		{"apple nothing", nil},
	} {
		if got := search("newest", c.q); strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("newest %q: want %q, got %q", c.q, c.want, got)
		}
		got := search("relevance", c.q)
		want := append([]string{}, c.want...)
		sort.Strings(got)
		sort.Strings(want)
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("relevance %q: want %q, got %q", c.q, want, got)
		}
	}
}
