package salon_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"

	"salonbase/hooks/notify"
	"salonbase/hooks/salon"
	"salonbase/testutil"
)

// A job commits with the transaction that queues it (or not at all), runs
// after the commit, and a failing job leaves none of its writes, is
// retried after a backoff and kept as failed after the last attempt.
func TestJobsRunOnceAfterCommitAndRetry(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	member := testutil.CreateUser(t, app, testutil.User{})
	failures := 1
	salon.HandleJob(app, "test.flaky", func(tx core.App, payload json.RawMessage) error {
		// the job's write, then maybe a failure: it must roll back
		if err := notify.Notify(tx, []string{member.Id}, notify.Notification{Kind: "test", Title: "from a job"}); err != nil {
			return err
		}
		if failures > 0 {
			failures--
			return errors.New("flaky")
		}
		return nil
	})
	notices := func() int { return testutil.NoticesOf(t, app, member, "test") }
	jobs := func(status string) int { return testutil.CountRecords(t, app, "jobs", dbx.HashExp{"status": status}) }

	// a rolled-back transaction leaves no job
	err := app.RunInTransaction(func(tx core.App) error {
		if err := salon.Enqueue(tx, "test.flaky", nil); err != nil {
			return err
		}
		return errors.New("the request failed")
	})
	if err == nil || jobs("pending") != 0 {
		t.Fatalf("a job queued by a failed transaction must not exist: %v, %d", err, jobs("pending"))
	}

	if err := salon.Enqueue(app, "test.flaky", nil); err != nil {
		t.Fatal(err)
	}
	salon.WaitBackground(app)
	if notices() != 0 || jobs("pending") != 1 {
		t.Fatalf("a failed run keeps none of its writes and stays queued: %d notices, %d pending", notices(), jobs("pending"))
	}
	// not due again before its backoff
	if n, err := salon.RunJobs(app, time.Now()); err != nil || n != 0 {
		t.Fatalf("a failed job ran again before its backoff: %d %v", n, err)
	}
	if n, err := salon.RunJobs(app, time.Now().Add(2*time.Minute)); err != nil || n != 1 {
		t.Fatalf("retry: %d %v", n, err)
	}
	if notices() != 1 || jobs("pending") != 0 {
		t.Fatalf("after the retry: %d notices (want 1), %d pending", notices(), jobs("pending"))
	}

	// a job that always fails is kept as failed after the last attempt
	failures = 100
	if err := salon.Enqueue(app, "test.flaky", nil); err != nil {
		t.Fatal(err)
	}
	salon.WaitBackground(app)
	for i := 0; i < 10; i++ {
		if _, err := salon.RunJobs(app, time.Now().Add(24*time.Hour*time.Duration(i+1))); err != nil {
			t.Fatal(err)
		}
	}
	if jobs("failed") != 1 || jobs("pending") != 0 || notices() != 1 {
		t.Fatalf("a job failing every time: %d failed, %d pending, %d notices", jobs("failed"), jobs("pending"), notices())
	}
}
