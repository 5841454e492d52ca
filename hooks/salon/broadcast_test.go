package salon_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"

	"salonbase/hooks/notify"
	"salonbase/testutil"
)

// Writes to a superusers-only collection (the e-mail outbox) still reach a
// superuser watching it, created, updated and deleted; a member subscribed
// to the same collection gets none of them, and still gets their own
// notifications.
func TestSuperuserOnlyBroadcastsReachSuperusers(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	member := testutil.CreateUser(t, app, testutil.User{})
	root := srv.Subscribe(t, testutil.SuperuserToken(t, app), "email_outbox")
	mem := srv.Subscribe(t, testutil.Token(t, member), "email_outbox", "notifications")

	if err := notify.QueueMail(app, notify.Mail{To: "someone@example.com", Kind: "test", Subject: "hello", Text: "hi"}); err != nil {
		t.Fatal(err)
	}
	out, err := app.FindFirstRecordByData("email_outbox", "subject", "hello")
	if err != nil {
		t.Fatal(err)
	}
	out.Set("status", "sent")
	if err := app.Save(out); err != nil {
		t.Fatal(err)
	}
	if err := app.Delete(out); err != nil {
		t.Fatal(err)
	}
	// PocketBase sends each realtime message from a goroutine of its own, so
	// three writes in a row may arrive in any order: all three must arrive
	seen := map[string]bool{}
	for range 3 {
		ev, ok := root.Next(10 * time.Second)
		var data struct {
			Action string `json:"action"`
		}
		if ok {
			_ = json.Unmarshal(ev.Data, &data)
		}
		if !ok || ev.Topic != "email_outbox" {
			t.Fatalf("superuser: want the outbox's create, update and delete, got %v after %v: %s %s", ok, seen, ev.Topic, ev.Data)
		}
		seen[data.Action] = true
	}
	if !seen["create"] || !seen["update"] || !seen["delete"] {
		t.Fatalf("superuser: want the outbox's create, update and delete, got %v", seen)
	}
	if err := app.RunInTransaction(func(tx core.App) error {
		return notify.Notify(tx, []string{member.Id}, notify.Notification{Kind: "test", Title: "for you"})
	}); err != nil {
		t.Fatal(err)
	}
	// the member's first event is their notification: no outbox event came before it
	if ev, ok := mem.Next(10 * time.Second); !ok || ev.Topic != "notifications" {
		t.Fatalf("member: want their notification first, got %v %s %s", ok, ev.Topic, ev.Data)
	}
}

// A client's broadcasts follow its current subscriptions: PocketBase
// replaces them on each subscription request, and the index of
// subscribers that narrows every broadcast must follow, and must not
// narrow anything for the rooms' own fan-out (topic rooms/ID).
func TestBroadcastsFollowAClientsCurrentSubscriptions(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	room := testutil.NewRoom(t, app, map[string]any{"name": "Lounge"})
	reader := testutil.CreateUser(t, app, testutil.User{})
	poster := testutil.Token(t, testutil.CreateUser(t, app, testutil.User{}))
	token := testutil.Token(t, reader)
	rt := srv.Subscribe(t, token, "notifications")
	topic := srv.Subscribe(t, token, "rooms/"+room.Id)

	next := func(rt *testutil.Realtime, want string) {
		t.Helper()
		for {
			ev, ok := rt.Next(10 * time.Second)
			if !ok {
				t.Fatalf("want a %s event, got none", want)
			}
			if ev.Topic == want && !strings.Contains(string(ev.Data), `"presence"`) {
				return
			}
			if ev.Topic != want {
				t.Fatalf("want a %s event, got %s %s", want, ev.Topic, ev.Data)
			}
		}
	}
	none := func(rt *testutil.Realtime) {
		t.Helper()
		if ev, ok := rt.Next(500 * time.Millisecond); ok {
			t.Fatalf("want no event, got %s %s", ev.Topic, ev.Data)
		}
	}
	notice := func() {
		t.Helper()
		if err := notify.Notify(app, []string{reader.Id}, notify.Notification{Kind: "test", Title: "hi"}); err != nil {
			t.Fatal(err)
		}
	}
	post := func() {
		t.Helper()
		if status, out := testutil.Post(t, srv, poster, room.Id, "hello"); status != 200 {
			t.Fatalf("post: %d %v", status, out)
		}
	}

	post()
	next(topic, "rooms/"+room.Id)
	none(rt)
	notice()
	next(rt, "notifications")

	// the same client now follows the room's messages instead
	if status, out := srv.Do(t, "POST", "/api/realtime", token, map[string]any{
		"clientId": rt.ClientID, "subscriptions": []string{"room_messages"}}); status != 204 {
		t.Fatalf("re-subscribe: %d %s", status, out)
	}
	notice()
	none(rt)
	post()
	next(rt, "room_messages")
	next(topic, "rooms/"+room.Id)
}
