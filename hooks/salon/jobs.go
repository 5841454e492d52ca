package salon

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

// Jobs: work a request promises but finishes after its answer (notices to a
// room's members, an event's announcement). Enqueue writes the job in the
// caller's transaction, so it commits with the record the client is told
// about, or not at all. After the commit the job runs in the background;
// a job that a crash interrupted (or that never started) runs when the
// server starts again. Running a job deletes its row in the same
// transaction as the job's own writes: the work is done exactly once.
// A failed job is retried with a backoff and, after the last attempt, kept
// as "failed" for the operator (the jobs collection in the dashboard).

// JobHandler does one job of its kind inside tx; an error rolls back its
// writes and the job is retried.
type JobHandler func(tx core.App, payload json.RawMessage) error

// JobPreparer reads and renders what one job of its kind writes, before
// the job's transaction, and returns the writes, which run in it: the
// transaction holds SQLite's one writer, which other members' writes wait
// for meanwhile. What it read may be a moment old when written, as for a
// request's Prepare.
type JobPreparer func(app core.App, payload json.RawMessage) (write func(tx core.App) error, err error)

const (
	jobsStoreKey    = "salon.jobs"
	jobsMaxAttempts = 8
	jobsBatch       = 100
)

// jobs is the app's job registry and runner state.
type jobs struct {
	app      core.App
	mu       sync.RWMutex
	handlers map[string]JobHandler
	prepared map[string]JobPreparer
	running  atomic.Bool
	pending  atomic.Bool
}

// bindJobs makes the registry and runs the jobs: after each commit that
// added one, when the app serves (what a crash left) and every minute (the
// retries).
func bindJobs(app core.App) {
	app.Store().Set(jobsStoreKey, &jobs{app: app, handlers: map[string]JobHandler{}, prepared: map[string]JobPreparer{}})
	app.OnRecordAfterCreateSuccess("jobs").BindFunc(func(e *core.RecordEvent) error {
		kickJobs(app)
		return e.Next()
	})
	app.OnServe().BindFunc(func(e *core.ServeEvent) error {
		kickJobs(app)
		return e.Next()
	})
	app.Cron().MustAdd("salonJobs", "* * * * *", func() { kickJobs(app) })
}

func jobsOf(app core.App) *jobs {
	j, _ := app.Store().Get(jobsStoreKey).(*jobs)
	if j == nil {
		panic("salon: jobs used before salon.Register") // a wiring bug, found by any test
	}
	return j
}

// HandleJob registers the handler of a kind of job (at Register time).
func HandleJob(app core.App, kind string, h JobHandler) {
	j := jobsOf(app)
	j.mu.Lock()
	defer j.mu.Unlock()
	j.handlers[kind] = h
}

// HandlePreparedJob registers the preparer of a kind of job (at Register
// time): its reads happen before the job's transaction, its writes in it.
func HandlePreparedJob(app core.App, kind string, p JobPreparer) {
	j := jobsOf(app)
	j.mu.Lock()
	defer j.mu.Unlock()
	j.prepared[kind] = p
	j.handlers[kind] = func(tx core.App, payload json.RawMessage) error {
		write, err := p(tx, payload)
		if err != nil {
			return err
		}
		return write(tx)
	}
}

// Enqueue writes a job of kind with payload (JSON-encoded). Call it with
// the transaction that writes what the job follows from.
func Enqueue(tx core.App, kind string, payload any) error {
	raw, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("enqueue %s: %w", kind, err)
	}
	c, err := tx.FindCachedCollectionByNameOrId("jobs")
	if err != nil {
		return fmt.Errorf("enqueue %s: %w", kind, err)
	}
	r := core.NewRecord(c)
	r.Set("kind", kind)
	r.Set("payload", json.RawMessage(raw))
	r.Set("status", "pending")
	r.Set("run_at", time.Now().UTC())
	if err := tx.SaveNoValidate(r); err != nil {
		return fmt.Errorf("enqueue %s: %w", kind, err)
	}
	return nil
}

// kickJobs runs the due jobs in the background; one runner per app, which
// goes round again when kicked while it runs.
func kickJobs(app core.App) {
	j := jobsOf(app)
	j.pending.Store(true)
	if !j.running.CompareAndSwap(false, true) {
		return
	}
	Background(app, "jobs", func() error {
		var firstErr error
		for {
			for j.pending.Swap(false) {
				if _, err := RunJobs(app, time.Now()); err != nil && firstErr == nil {
					firstErr = err
				}
			}
			j.running.Store(false)
			// a kick between the last Swap and Store must not be lost
			if !j.pending.Load() || !j.running.CompareAndSwap(false, true) {
				return firstErr
			}
		}
	})
}

// RunJobs runs every job due at now, including those the jobs it runs add,
// and returns how many it ran (failures included).
func RunJobs(app core.App, now time.Time) (int, error) {
	ran := 0
	for {
		var due []struct {
			Id       string `db:"id"`
			Kind     string `db:"kind"`
			Payload  string `db:"payload"`
			Attempts int    `db:"attempts"`
		}
		err := app.DB().Select("id", "kind", "payload", "attempts").From("jobs").
			Where(dbx.HashExp{"status": "pending"}).
			AndWhere(dbx.NewExp("run_at <= {:now}", dbx.Params{"now": DbTime(now)})).
			OrderBy("run_at", "rowid").Limit(jobsBatch).All(&due)
		if err != nil {
			return ran, fmt.Errorf("due jobs: %w", err)
		}
		for _, d := range due {
			if err := runJob(app, d.Id, d.Kind, json.RawMessage(d.Payload), d.Attempts, now); err != nil {
				return ran, err
			}
			ran++
		}
		if len(due) < jobsBatch {
			return ran, nil
		}
	}
}

var errJobGone = errors.New("job already done")

// runJob does one job and deletes it in one transaction, or records the
// failure. Only an error recording the failure is returned.
func runJob(app core.App, id, kind string, payload json.RawMessage, attempts int, now time.Time) error {
	j := jobsOf(app)
	j.mu.RLock()
	h := j.handlers[kind]
	p := j.prepared[kind]
	j.mu.RUnlock()
	if p != nil {
		// read and render first, outside the writer; a failure is the
		// job's, recorded below like one in its transaction
		write, err := p(app, payload)
		h = func(core.App, json.RawMessage) error { return err }
		if err == nil {
			h = func(tx core.App, _ json.RawMessage) error { return write(tx) }
		}
	}

	err := app.RunInTransaction(func(tx core.App) error {
		// claim by deleting: a second runner (another process on the same
		// data dir) finds nothing to do
		res, err := tx.DB().NewQuery("DELETE FROM jobs WHERE id = {:id} AND status = 'pending'").
			Bind(dbx.Params{"id": id}).Execute()
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errJobGone
		}
		if h == nil {
			return fmt.Errorf("no handler for jobs of kind %q", kind)
		}
		return h(tx, payload)
	})
	if err == nil || errors.Is(err, errJobGone) {
		return nil
	}

	attempts++
	app.Logger().Warn("job failed", "id", id, "kind", kind, "attempts", attempts, "error", err)
	set := dbx.Params{
		"attempts":   attempts,
		"last_error": Truncate(err.Error(), 1000),
		"run_at":     DbTime(now.Add(jobBackoff(attempts))),
		"updated":    DbTime(time.Now()),
	}
	if attempts >= jobsMaxAttempts {
		set["status"] = "failed"
	}
	if _, uerr := app.DB().Update("jobs", set, dbx.HashExp{"id": id}).Execute(); uerr != nil {
		return fmt.Errorf("job %s: record failure: %w", id, uerr)
	}
	return nil
}

// jobBackoff is the wait before attempt n+1 after n failed attempts: 1, 2,
// 4 … minutes, at most 6 hours.
func jobBackoff(attempts int) time.Duration {
	d := time.Minute << max(attempts-1, 0)
	if d > 6*time.Hour || d <= 0 {
		d = 6 * time.Hour
	}
	return d
}
