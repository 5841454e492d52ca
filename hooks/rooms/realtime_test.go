package rooms_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"

	"salonbase/testutil"
)

type roomEv struct {
	Type   string
	Action string
	Record map[string]any
	User   map[string]any
	Joined []map[string]any
	Left   []string
}

// nextRoomEvent waits for the next event of type typ on rt.
func nextRoomEvent(t testing.TB, rt *testutil.Realtime, typ string) (roomEv, bool) {
	t.Helper()
	for {
		ev, ok := rt.Next(3 * time.Second)
		if !ok {
			return roomEv{}, false
		}
		var e roomEv
		if err := json.Unmarshal(ev.Data, &e); err != nil {
			t.Fatalf("event %s: %v", ev.Data, err)
		}
		if e.Type == typ {
			noHiddenFields(t, "room event", ev.Data)
			return e, true
		}
	}
}

// quiet reports whether rt receives no message event containing text for a
// short while.
func quiet(t testing.TB, rt *testutil.Realtime, text string) bool {
	for {
		ev, ok := rt.Next(300 * time.Millisecond)
		if !ok {
			return true
		}
		if strings.Contains(string(ev.Data), text) {
			return false
		}
	}
}

func TestRoomTopicPresenceTypingMessages(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	aiko := testutil.CreateUser(t, app, testutil.User{Name: "Aiko", Rank: "Gold"})
	ben := testutil.CreateUser(t, app, testutil.User{Name: "Ben", Rank: "Gold"})
	bronze := testutil.CreateUser(t, app, testutil.User{Rank: "Bronze"})
	room := testutil.NewRoom(t, app, map[string]any{"min_rank": testutil.RankID(t, app, "Gold")})
	topic := "rooms/" + room.Id
	at, bt := testutil.Token(t, aiko), testutil.Token(t, ben)

	// a member below the room's rank cannot subscribe
	probe := srv.Subscribe(t, testutil.Token(t, bronze))
	status, raw := srv.Do(t, http.MethodPost, "/api/realtime", testutil.Token(t, bronze), map[string]any{"clientId": probe.ClientID, "subscriptions": []string{topic}})
	if status != http.StatusForbidden || !strings.Contains(string(raw), "Gold") {
		t.Fatalf("bronze subscribes to the gold room: want 403, got %d %s", status, raw)
	}

	a := srv.Subscribe(t, at, topic)
	b := srv.Subscribe(t, bt, topic)
	// presence comes in batches; Aiko's own arrival may share Ben's
	for seen := false; !seen; {
		ev, ok := nextRoomEvent(t, a, "presence")
		if !ok {
			t.Fatal("Aiko sees Ben arrive: no presence event")
		}
		for _, p := range ev.Joined {
			seen = seen || (p["name"] == "Ben" && p["id"] == ben.Id && p["kind"] == "member")
		}
	}
	_, raw = srv.Do(t, http.MethodGet, "/api/salon/rooms/"+room.Id+"/presence", at, nil)
	if !strings.Contains(string(raw), "Aiko") || !strings.Contains(string(raw), "Ben") {
		t.Fatalf("presence list: %s", raw)
	}
	if status, _ := srv.Do(t, http.MethodGet, "/api/salon/rooms/"+room.Id+"/presence", testutil.Token(t, bronze), nil); status != http.StatusForbidden {
		t.Fatalf("presence of a room above your rank: want 403, got %d", status)
	}

	if status, _ := srv.Do(t, http.MethodPost, "/api/salon/rooms/"+room.Id+"/typing", bt, nil); status != http.StatusNoContent {
		t.Fatalf("typing: %d", status)
	}
	if ev, ok := nextRoomEvent(t, a, "typing"); !ok || ev.User["name"] != "Ben" {
		t.Fatalf("Aiko sees Ben typing: %v", ev)
	}
	if status, _ := srv.Do(t, http.MethodPost, "/api/salon/rooms/"+room.Id+"/typing", testutil.Token(t, bronze), nil); status != http.StatusForbidden {
		t.Fatalf("typing in a room above your rank: want 403, got %d", status)
	}

	_, msg := testutil.Post(t, srv, bt, room.Id, "first!")
	if ev, ok := nextRoomEvent(t, a, "message"); !ok || ev.Action != "create" || ev.Record["id"] != msg["id"] || ev.Record["author_name"] != "Ben" {
		t.Fatalf("Aiko receives Ben's message: %v", ev)
	}
	srv.Do(t, http.MethodPatch, testutil.MessagesURL+"/"+msg["id"].(string), bt, map[string]any{"body": "first (edited)"})
	if ev, ok := nextRoomEvent(t, a, "message"); !ok || ev.Action != "update" || ev.Record["body"] != "first (edited)" {
		t.Fatalf("Aiko receives the edit: %v", ev)
	}
	admin := testutil.CreateUser(t, app, testutil.User{Role: "admin"})
	srv.Do(t, http.MethodDelete, testutil.MessagesURL+"/"+msg["id"].(string), testutil.Token(t, admin), nil)
	if ev, ok := nextRoomEvent(t, a, "message"); !ok || ev.Action != "delete" || ev.Record["id"] != msg["id"] || ev.Record["body"] != nil {
		t.Fatalf("Aiko receives the deletion without the text: %v", ev)
	}

	// a second tab of Aiko's is still one presence; Ben's leaving is announced
	srv.Subscribe(t, at, topic)
	b.Close()
	ev, ok := nextRoomEvent(t, a, "presence")
	if !ok || len(ev.Left) != 1 || ev.Left[0] != ben.Id || len(ev.Joined) != 0 {
		t.Fatalf("Aiko sees Ben leave (and no second arrival of hers): %+v", ev)
	}
}

func TestRoomTopicStopsForRemovedDemotedSuspended(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	admin := testutil.CreateUser(t, app, testutil.User{Role: "admin"})
	kicked := testutil.CreateUser(t, app, testutil.User{Rank: "Gold"})
	demoted := testutil.CreateUser(t, app, testutil.User{Rank: "Gold"})
	suspended := testutil.CreateUser(t, app, testutil.User{Rank: "Gold"})
	stays := testutil.CreateUser(t, app, testutil.User{Rank: "Gold"})
	room := testutil.NewRoom(t, app, map[string]any{"password": "secret!", "min_rank": testutil.RankID(t, app, "Gold")})
	topic := "rooms/" + room.Id
	clients := map[string]*testutil.Realtime{}
	for name, user := range map[string]*core.Record{"kicked": kicked, "demoted": demoted, "suspended": suspended, "stays": stays} {
		token := testutil.Token(t, user)
		if status, raw := srv.Do(t, http.MethodPost, "/api/salon/rooms/"+room.Id+"/join", token, map[string]any{"password": "secret!"}); status != http.StatusOK {
			t.Fatalf("join: %d %s", status, raw)
		}
		clients[name] = srv.Subscribe(t, token, topic)
	}

	m, _ := app.FindFirstRecordByFilter("room_members", "user = {:u}", map[string]any{"u": kicked.Id})
	if status, _ := srv.Do(t, http.MethodDelete, "/api/collections/room_members/records/"+m.Id, testutil.Token(t, admin), nil); status != http.StatusNoContent {
		t.Fatalf("admin removes a member: %d", status)
	}
	demoted.Set("rank", testutil.RankID(t, app, "Silver"))
	if err := app.Save(demoted); err != nil {
		t.Fatal(err)
	}
	suspended.Set("suspended", true)
	if err := app.Save(suspended); err != nil {
		t.Fatal(err)
	}

	testutil.Post(t, srv, testutil.Token(t, admin), room.Id, "members only news")
	if _, ok := nextRoomEvent(t, clients["stays"], "message"); !ok {
		t.Fatal("the remaining member receives the message")
	}
	for _, name := range []string{"kicked", "demoted", "suspended"} {
		if !quiet(t, clients[name], "members only news") {
			t.Errorf("%s member still receives the room", name)
		}
	}
}
