package rooms_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	"salonbase/testutil"
)

// A client that retries a message whose answer it never got (a timeout, a
// crash of the server) sends the same client_id: it gets the first message
// back and the room holds it once, also when the retries race each other.
func TestRoomMessageClientIDMakesRetriesSafe(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	me := testutil.CreateUser(t, app, testutil.User{})
	other := testutil.CreateUser(t, app, testutil.User{})
	room := testutil.NewRoom(t, app, map[string]any{})
	room2 := testutil.NewRoom(t, app, map[string]any{"name": "Annex"})
	token, otherToken := testutil.Token(t, me), testutil.Token(t, other)
	send := func(token, room, clientID string) (int, map[string]any) {
		status, raw := srv.Do(t, http.MethodPost, testutil.MessagesURL, token,
			map[string]any{"room": room, "body": "hello once", "client_id": clientID})
		out := map[string]any{}
		if status == http.StatusOK {
			out = testutil.Decode[map[string]any](t, raw)
		} else {
			out["raw"] = string(raw)
		}
		return status, out
	}
	count := func(clientID string) int {
		return testutil.CountRecords(t, app, "room_messages", testutil.DbxHash("client_id", clientID))
	}

	status, first := send(token, room.Id, "c-7f3a")
	if status != http.StatusOK || first["client_id"] != "c-7f3a" {
		t.Fatalf("first send: %d %v", status, first)
	}
	status, again := send(token, room.Id, "c-7f3a")
	if status != http.StatusOK || again["id"] != first["id"] || again["author"] != me.Id {
		t.Fatalf("a retry must answer the first message %v, got %d %v", first["id"], status, again)
	}
	if n := count("c-7f3a"); n != 1 {
		t.Fatalf("a retried message is stored %d times", n)
	}

	// the same id for another room is a client bug, not a retry
	status, out := send(token, room2.Id, "c-7f3a")
	if status != http.StatusConflict || !strings.Contains(out["raw"].(string), "client_id_reused") {
		t.Fatalf("client_id reused for another room: %d %v", status, out)
	}
	// another author's id is theirs: no collision, nothing of mine leaks
	status, theirs := send(otherToken, room.Id, "c-7f3a")
	if status != http.StatusOK || theirs["id"] == first["id"] || theirs["author"] != other.Id {
		t.Fatalf("another member's same client_id: %d %v", status, theirs)
	}

	// retries racing each other store one message
	var wg sync.WaitGroup
	ids := make([]any, 8)
	statuses := make([]int, 8)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, m := send(token, room.Id, "race-1")
			statuses[i], ids[i] = s, m["id"]
		}()
	}
	wg.Wait()
	for i := range ids {
		if statuses[i] != http.StatusOK || ids[i] != ids[0] {
			t.Fatalf("racing retries: statuses %v, ids %v", statuses, ids)
		}
	}
	if n := count("race-1"); n != 1 {
		t.Fatalf("racing retries stored %d messages", n)
	}

	// the key cannot be edited away (it would let a retry store twice) and
	// is checked like the DM one
	testutil.WantStatus(t, srv, http.MethodPatch, testutil.MessagesURL+"/"+first["id"].(string), token,
		map[string]any{"body": "edited", "client_id": "c-other"}, 400, "client_id")
	testutil.WantStatus(t, srv, http.MethodPost, testutil.MessagesURL, token,
		map[string]any{"room": room.Id, "body": "x", "client_id": "not a valid id!"}, 400, "client_id")

	// without a client_id every send is a new message, as before
	for range 2 {
		if s, _ := send(token, room.Id, ""); s != http.StatusOK {
			t.Fatalf("send without client_id: %d", s)
		}
	}
	if n := testutil.CountRecords(t, app, "room_messages", testutil.DbxHash("client_id", "")); n != 2 {
		t.Fatalf("messages without client_id: %d, want 2", n)
	}
}
