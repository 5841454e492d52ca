package rooms_test

import (
	"net/http"
	"net/url"
	"testing"

	"salonbase/testutil"
)

func TestRoomChangesSince(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	aiko := testutil.CreateUser(t, app, testutil.User{Rank: "Gold"})
	ben := testutil.CreateUser(t, app, testutil.User{Rank: "Gold"})
	bronze := testutil.CreateUser(t, app, testutil.User{Rank: "Bronze"})
	room := testutil.NewRoom(t, app, map[string]any{"members_can_delete_own": true, "min_rank": testutil.RankID(t, app, "Gold")})
	locked := testutil.NewRoom(t, app, map[string]any{"name": "Locked", "password": "open sesame"})
	at, bt := testutil.Token(t, aiko), testutil.Token(t, ben)

	_, kept := testutil.Post(t, srv, at, room.Id, "stays as it is")
	_, edited := testutil.Post(t, srv, at, room.Id, "to be edited")
	_, gone := testutil.Post(t, srv, at, room.Id, "to be deleted")
	// Ben was last up to date with the newest message he had
	since := gone["updated"].(string)
	changesURL := func(roomID, since string) string {
		return "/api/salon/rooms/" + roomID + "/changes?since=" + url.QueryEscape(since)
	}

	testutil.WantStatus(t, srv, http.MethodPatch, testutil.MessagesURL+"/"+edited["id"].(string), at, map[string]any{"body": "edited while Ben was away"}, http.StatusOK, "")
	testutil.WantStatus(t, srv, http.MethodDelete, testutil.MessagesURL+"/"+gone["id"].(string), at, nil, http.StatusNoContent, "")

	type changes struct {
		Items   []map[string]any `json:"items"`
		Deleted []string         `json:"deleted"`
		More    bool             `json:"more"`
		Next    string           `json:"next"`
	}
	raw := testutil.WantStatus(t, srv, http.MethodGet, changesURL(room.Id, since), bt, nil, http.StatusOK, "")
	noHiddenFields(t, "changes", raw)
	got := testutil.Decode[changes](t, raw)
	if len(got.Deleted) != 1 || got.Deleted[0] != gone["id"] {
		t.Errorf("want the deleted message's id, got %v", got.Deleted)
	}
	var sawEdit bool
	for _, m := range got.Items {
		if m["id"] == kept["id"] {
			t.Errorf("a message unchanged since then is not a change: %v", m)
		}
		if m["id"] == gone["id"] || m["body"] == "to be deleted" {
			t.Errorf("a deleted message's text is never sent to members: %v", m)
		}
		if m["id"] == edited["id"] {
			sawEdit = m["body"] == "edited while Ben was away" && m["edited"] == true
		}
	}
	if !sawEdit || got.More || got.Next == "" {
		t.Errorf("want the edit with its new text, no more, a next time: %s", raw)
	}
	// asking again from next gives nothing new but what happened at that moment
	again := testutil.Decode[changes](t, testutil.WantStatus(t, srv, http.MethodGet, changesURL(room.Id, got.Next), bt, nil, http.StatusOK, ""))
	if len(again.Items)+len(again.Deleted) > 1 {
		t.Errorf("from next: want at most the last change again, got %+v", again)
	}

	// refused: no login, rank too low, a password room not joined, bad input
	testutil.WantStatus(t, srv, http.MethodGet, changesURL(room.Id, since), "", nil, http.StatusUnauthorized, "")
	out := testutil.WantStatus(t, srv, http.MethodGet, changesURL(room.Id, since), testutil.Token(t, bronze), nil, http.StatusForbidden, "")
	if string(out) == string(raw) || len(testutil.Decode[changes](t, out).Deleted) != 0 {
		t.Errorf("a member below the room's rank sees nothing: %s", out)
	}
	testutil.WantStatus(t, srv, http.MethodGet, changesURL(locked.Id, since), bt, nil, http.StatusForbidden, "password_required")
	testutil.WantStatus(t, srv, http.MethodGet, changesURL(room.Id, "yesterday"), bt, nil, http.StatusBadRequest, "since")
	testutil.WantStatus(t, srv, http.MethodGet, "/api/salon/rooms/"+room.Id+"/changes", bt, nil, http.StatusBadRequest, "since")
	testutil.WantStatus(t, srv, http.MethodGet, changesURL("nosuchroom12345", since), bt, nil, http.StatusNotFound, "")
}

// More changes than one answer holds: the client pages on with next.
func TestRoomChangesPages(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	aiko := testutil.CreateUser(t, app, testutil.User{})
	room := testutil.NewRoom(t, app, map[string]any{})
	at := testutil.Token(t, aiko)
	c := testutil.MustCollection(t, app, "room_messages")
	since := ""
	for i := 0; i < 205; i++ {
		m := testutil.NewRecord(c, map[string]any{"room": room.Id, "author": aiko.Id, "author_name": "Aiko", "body": "m"})
		if err := app.Save(m); err != nil {
			t.Fatal(err)
		}
		if since == "" {
			since = m.GetDateTime("updated").String()
		}
	}
	type changes struct {
		Items []map[string]any `json:"items"`
		More  bool             `json:"more"`
		Next  string           `json:"next"`
	}
	seen := map[string]bool{}
	for page := 0; page < 5; page++ {
		got := testutil.Decode[changes](t, testutil.WantStatus(t, srv, http.MethodGet,
			"/api/salon/rooms/"+room.Id+"/changes?since="+url.QueryEscape(since), at, nil, http.StatusOK, ""))
		if len(got.Items) > 200 {
			t.Fatalf("one answer holds at most 200 changes, got %d", len(got.Items))
		}
		for _, m := range got.Items {
			seen[m["id"].(string)] = true
		}
		if !got.More {
			break
		}
		since = got.Next
	}
	if len(seen) != 205 {
		t.Errorf("paging with next: want all 205 messages, got %d", len(seen))
	}
}
