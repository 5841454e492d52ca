package salon

import (
	"context"
	"fmt"
	"sync"

	"github.com/pocketbase/pocketbase/core"
)

// groupCommit writes the inserts registered with WithInsert (a DM, a room
// or forum post, each with its notices and e-mails) several to a
// transaction: SQLite has one writer, and each transaction pays for taking
// it, for its BEGIN and its COMMIT (the WAL append), and every other
// writer waits meanwhile. Members whose writes arrive together share those
// costs. Nobody waits for a batch to fill: a batch is whatever queued
// while the one before it was written, and one goroutine writes them one
// after another while there are any (and ends when there are none).
//
// Each insert has its own SAVEPOINT: one that fails (a unique client_id
// taken by a concurrent retry, a bad value) is rolled back alone and its
// request gets its error; the others commit. An error after an insert
// succeeded (writing its notices) fails the whole batch, as PocketBase may
// already have queued after-commit work for what it saved; every request
// of that batch then gets the error and nothing of it is written. A
// request is answered only after its batch committed (or failed).
type groupCommit struct {
	mu      sync.Mutex
	queue   []*groupWrite
	running bool
}

// groupWrite is one queued insert: e is its create-execute event, whose
// rest of the chain (e.Next) makes the INSERT, and write what goes with it.
type groupWrite struct {
	e     *core.RecordEvent
	write func(tx core.App) error
	done  chan error
}

// maxGroup bounds a batch, so that the writer is never held for long.
const maxGroup = 64

// insert queues w and waits for its batch's outcome.
func (g *groupCommit) insert(app core.App, e *core.RecordEvent, write func(tx core.App) error) error {
	w := &groupWrite{e: e, write: write, done: make(chan error, 1)}
	g.mu.Lock()
	g.queue = append(g.queue, w)
	start := !g.running
	g.running = true
	g.mu.Unlock()
	if start {
		go g.run(app)
	}
	return <-w.done
}

// run writes batches while any are queued.
func (g *groupCommit) run(app core.App) {
	for {
		g.mu.Lock()
		n := min(len(g.queue), maxGroup)
		if n == 0 {
			g.running = false
			g.mu.Unlock()
			return
		}
		batch := g.queue[:n:n]
		g.queue = g.queue[n:]
		g.mu.Unlock()
		g.commit(app, batch)
	}
}

// commit writes batch in one transaction and answers each of its writes.
func (g *groupCommit) commit(app core.App, batch []*groupWrite) {
	errs := make([]error, len(batch))
	txErr := app.RunInTransaction(func(tx core.App) error {
		for i, w := range batch {
			failed, err := g.one(tx, w)
			if err != nil {
				return err // the whole batch
			}
			errs[i] = failed
		}
		return nil
	})
	for i, w := range batch {
		err := errs[i]
		if err == nil {
			err = txErr
		}
		w.done <- err
	}
}

// one runs w's insert and writes inside a savepoint of tx. failed is w's
// own failure (its savepoint rolled back, the batch goes on); err fails
// the batch.
func (g *groupCommit) one(tx core.App, w *groupWrite) (failed, err error) {
	e := w.e
	orig, origCtx := e.App, e.Context
	defer func() { e.App, e.Context = orig, origCtx }() // hooks after the insert get the app, not the transaction
	// a member who hangs up does not cancel the batch (SQLite would
	// interrupt the transaction of everyone in it): the write completes
	e.App, e.Context = tx, context.WithoutCancel(origCtx)
	if _, err := tx.DB().NewQuery("SAVEPOINT salon_group_write").Execute(); err != nil {
		return nil, fmt.Errorf("group commit: savepoint: %w", err)
	}
	inserted := false
	runErr := func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("group commit: panic: %v", r)
				inserted = true // what it left is unknown: the batch fails
			}
		}()
		if err := e.Next(); err != nil {
			return err
		}
		inserted = true
		return w.write(tx)
	}()
	if runErr == nil {
		if _, err := tx.DB().NewQuery("RELEASE salon_group_write").Execute(); err != nil {
			return nil, fmt.Errorf("group commit: release: %w", err)
		}
		return nil, nil
	}
	if inserted {
		return nil, runErr
	}
	if _, err := tx.DB().NewQuery("ROLLBACK TO salon_group_write").Execute(); err != nil {
		return nil, fmt.Errorf("group commit: rollback to savepoint (%v): %w", runErr, err)
	}
	if _, err := tx.DB().NewQuery("RELEASE salon_group_write").Execute(); err != nil {
		return nil, fmt.Errorf("group commit: release: %w", err)
	}
	return runErr, nil
}

// hasUnsavedFiles reports whether r carries uploads: their upload happens
// in the insert's chain, and a slow storage must not hold a whole batch.
func hasUnsavedFiles(r *core.Record) bool {
	for _, f := range r.Collection().Fields {
		if f.Type() == core.FieldTypeFile && len(r.GetUnsavedFiles(f.GetName())) > 0 {
			return true
		}
	}
	return false
}
