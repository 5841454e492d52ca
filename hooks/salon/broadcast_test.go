package salon_test

import (
	"encoding/json"
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
	for _, action := range []string{"create", "update", "delete"} {
		ev, ok := root.Next(10 * time.Second)
		var data struct {
			Action string `json:"action"`
		}
		if ok {
			_ = json.Unmarshal(ev.Data, &data)
		}
		if !ok || ev.Topic != "email_outbox" || data.Action != action {
			t.Fatalf("superuser: want the outbox %s, got %v %s %s", action, ok, ev.Topic, ev.Data)
		}
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
