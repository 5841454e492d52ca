package notify_test

import (
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"

	"salonbase/hooks"
	"salonbase/hooks/notify"
	"salonbase/testutil"
)

// openApp opens (or reopens) a real app on dir, as `salonbase serve` does:
// bootstrap, migrations, hooks. No test mailer is involved.
func openApp(t *testing.T, dir string) core.App {
	t.Helper()
	app := core.NewBaseApp(core.BaseAppConfig{DataDir: dir, EncryptionEnv: "pb_test_env"})
	if err := app.Bootstrap(); err != nil {
		t.Fatal(err)
	}
	if err := app.RunAllMigrations(); err != nil {
		t.Fatal(err)
	}
	hooks.Register(app)
	return app
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestOutboxRestartMidQueueNeitherLosesNorRepeats(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ms := testutil.StartMailServer(t)
	ms.SetDelay(30 * time.Millisecond) // slow enough to stop mid-queue

	app := openApp(t, dir)
	testutil.UseMailServer(t, app, ms)
	testutil.UpdateSettings(t, app, map[string]any{"email_rate_per_minute": 0})
	const total = 15
	ids := make([]string, 0, total)
	for i := 0; i < total; i++ {
		ids = append(ids, testutil.Member(t, app, testutil.User{}, "en").Id)
	}
	if err := notify.Notify(app, ids, notify.Notification{Kind: "announcement", Title: "Spring meetup"}); err != nil {
		t.Fatal(err)
	}

	w := notify.StartOutbox(app)
	ms.WaitFor(t, 3)
	w.Stop()
	beforeRestart := len(ms.Messages())
	if beforeRestart >= total {
		t.Fatalf("the worker finished before the restart (%d sent); the test needs a slower server", beforeRestart)
	}
	if n := testutil.CountRecords(t, app, "email_outbox", dbx.HashExp{"status": "sending"}); n != 0 {
		t.Fatalf("a graceful stop left %d rows claimed", n)
	}
	if n := testutil.CountRecords(t, app, "email_outbox", dbx.HashExp{"status": "sent"}); n != beforeRestart {
		t.Fatalf("%d rows marked sent, %d mails arrived", n, beforeRestart)
	}
	if err := app.ClearBootstrap(); err != nil {
		t.Fatal(err)
	}

	// a new process on the same data dir
	app2 := openApp(t, dir)
	defer app2.ClearBootstrap()
	testutil.UseMailServer(t, app2, ms)
	w2 := notify.StartOutbox(app2)
	waitUntil(t, "the outbox to drain", func() bool {
		n, err := app2.CountRecords("email_outbox", dbx.HashExp{"status": "sent"})
		return err == nil && n == total
	})
	w2.Stop()

	got := ms.Messages()
	seen := map[string]int{}
	for _, m := range got {
		for _, to := range m.To {
			seen[to]++
		}
	}
	if len(got) != total || len(seen) != total {
		t.Fatalf("received %d mails for %d distinct members, want %d each", len(got), len(seen), total)
	}
	for to, n := range seen {
		if n != 1 {
			t.Fatalf("%s got %d copies", to, n)
		}
	}
}

// A server that starts takes over at once the rows an earlier process
// claimed and never marked (it crashed); a claim made after it started
// (another live process) is left to that process until the lease ends.
func TestOutboxTakesOverClaimsOfAnEarlierProcessAtOnce(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	ms := testutil.StartMailServer(t)
	testutil.UseMailServer(t, app, ms)
	claim := func(by string, at time.Time) {
		t.Helper()
		m := testutil.Member(t, app, testutil.User{}, "en")
		if err := notify.Notify(app, []string{m.Id}, notify.Notification{Kind: "dm", Title: "x"}); err != nil {
			t.Fatal(err)
		}
		if _, err := app.DB().NewQuery("UPDATE email_outbox SET status = 'sending', claimed_by = {:by}, claimed_at = {:at} WHERE user = {:u}").
			Bind(dbx.Params{"by": by, "at": at.UTC().Format("2006-01-02 15:04:05.000Z"), "u": m.Id}).Execute(); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	// as a process that died mid-batch leaves them: claimed, never marked
	claim("crashed-process", now.Add(-time.Minute))
	claim("crashed-process", now.Add(-time.Minute))
	// claimed by a process still running, after this one started
	claim("live-process", now.Add(time.Second))

	if sent, _ := deliver(t, app, now); sent != 2 {
		t.Fatalf("the claims of a gone process: %d sent at once, want 2", sent)
	}
	if sent, _ := deliver(t, app, now); sent != 0 {
		t.Fatalf("took over a live process's claim before the lease: %d sent", sent)
	}
	if sent, _ := deliver(t, app, now.Add(11*time.Minute)); sent != 1 {
		t.Fatalf("after the lease: %d sent, want 1", sent)
	}
	ms.WaitFor(t, 3)
}

// A request that notifies returns while the SMTP server hangs: the e-mail
// waits in the outbox.
func TestNotifyingRequestDoesNotWaitForSMTP(t *testing.T) {
	t.Parallel()
	hang, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer hang.Close()
	go func() {
		for {
			c, err := hang.Accept()
			if err != nil {
				return
			}
			defer c.Close() // accept, never answer
		}
	}()

	app := testutil.NewApp(t)
	testutil.UseMailServer(t, app, &testutil.MailServer{Host: "127.0.0.1", Port: hang.Addr().(*net.TCPAddr).Port})
	srv := testutil.Serve(t, app) // starts the outbox worker too
	admin := testutil.Member(t, app, testutil.User{Role: "admin"}, "en")
	reporter := testutil.Member(t, app, testutil.User{}, "en")
	offender := testutil.Member(t, app, testutil.User{}, "en")

	status, body := srv.Do(t, http.MethodPost, "/api/collections/reports/records", testutil.Token(t, reporter), map[string]any{
		"target_collection": "users", "target_id": offender.Id, "category": "spam", "reason": "ads",
	})
	if status != 200 {
		t.Fatalf("report: %d %s", status, body)
	}
	if n := testutil.CountRecords(t, app, "notifications", dbx.HashExp{"user": admin.Id, "kind": "report"}); n != 1 {
		t.Fatalf("admin notified in-app: %d", n)
	}
	if n := testutil.CountRecords(t, app, "email_outbox", dbx.HashExp{"user": admin.Id, "status": "sent"}); n != 0 {
		t.Fatal("an e-mail was marked sent although the server never answered")
	}
}

// With a rate of one e-mail a minute the worker sends one and waits; a stop
// during the wait puts the rest back in the queue for the next start.
func TestOutboxWorkerKeepsTheRateLimit(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	ms := testutil.StartMailServer(t)
	testutil.UseMailServer(t, app, ms)
	testutil.UpdateSettings(t, app, map[string]any{"email_rate_per_minute": 1})
	ids := []string{}
	for i := 0; i < 3; i++ {
		ids = append(ids, testutil.Member(t, app, testutil.User{}, "en").Id)
	}
	if err := notify.Notify(app, ids, notify.Notification{Kind: "announcement", Title: "slowly"}); err != nil {
		t.Fatal(err)
	}
	w := notify.StartOutbox(app)
	ms.WaitFor(t, 1)
	waitUntil(t, "the first row marked sent", func() bool {
		n, err := app.CountRecords("email_outbox", dbx.HashExp{"status": "sent"})
		return err == nil && n == 1
	})
	w.Stop()
	if got := len(ms.Messages()); got != 1 {
		t.Fatalf("%d e-mails left within the first minute, want 1", got)
	}
	if n := testutil.CountRecords(t, app, "email_outbox", dbx.HashExp{"status": "pending"}); n != 2 {
		t.Fatalf("pending after the stop: %d, want 2", n)
	}
}

// TestHungSMTPSendIsCutOffAndTheMailGoesOnce: a server that stops answering
// mid-conversation fails the send at the deadline, and that conversation is
// over (its connection closed): when the server wakes up it cannot still
// take the mail that the retry has already delivered.
func TestHungSMTPSendIsCutOffAndTheMailGoesOnce(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	ms := testutil.StartMailServer(t)
	testutil.UseMailServer(t, app, ms)
	notify.SetSendTimeout(app, 300*time.Millisecond)
	m := testutil.Member(t, app, testutil.User{Email: "hung@example.com"}, "en")
	if err := notify.Notify(app, []string{m.Id}, notify.Notification{Kind: "dm", Title: "once only"}); err != nil {
		t.Fatal(err)
	}

	ms.StallNext(1, 2*time.Second)
	now := time.Now()
	if sent, failed := deliver(t, app, now); sent != 0 || failed != 1 {
		t.Fatalf("the hung attempt: sent %d failed %d; want it failed", sent, failed)
	}
	row, err := app.FindFirstRecordByData("email_outbox", "to", "hung@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if row.GetString("status") != "pending" || !strings.Contains(row.GetString("last_error"), "no answer within") {
		t.Fatalf("after the deadline: status %q, last error %q", row.GetString("status"), row.GetString("last_error"))
	}
	if sent, _ := deliver(t, app, now.Add(61*time.Second)); sent != 1 {
		t.Fatalf("the retry: sent %d", sent)
	}
	ms.WaitFor(t, 1)
	ms.WaitIdle(t) // the stalled conversation has ended too
	if got := ms.Messages(); len(got) != 1 {
		t.Fatalf("the mail arrived %d times", len(got))
	}
}
