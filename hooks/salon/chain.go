package salon

import (
	"fmt"
	"sync"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/security"
)

// ChainInTx runs f, which calls the rest of a record hook's chain (e.Next),
// in one transaction, so that what f writes besides the record commits
// with it or not at all. eventApp is the hook event's App: it points at the
// transaction while f runs, so the chain saves in it, and at the app again
// afterwards, so hooks around this one never get a finished transaction.
func ChainInTx(eventApp *core.App, f func(tx core.App) error) error {
	app := *eventApp
	defer func() { *eventApp = app }()
	return app.RunInTransaction(func(tx core.App) error {
		*eventApp = tx
		return f(tx)
	})
}

// NewID gives r, a new record without an id, the id its save would give
// it (from its id field's pattern), so that work prepared before the save
// (a notice's link) can name it.
func NewID(r *core.Record) error {
	if r.Id != "" {
		return nil
	}
	f, ok := r.Collection().Fields.GetByName(core.FieldNameId).(*core.TextField)
	if !ok || f.AutogeneratePattern == "" {
		return fmt.Errorf("%s: no id pattern", r.Collection().Name)
	}
	id, err := security.RandomStringByRegex(f.AutogeneratePattern)
	if err != nil {
		return fmt.Errorf("%s: new id: %w", r.Collection().Name, err)
	}
	r.SetRaw(core.FieldNameId, id)
	return nil
}

// Writes that go with a record's insert (see WithInsert), by record.
const withInsertKey = "salon.withInsert"

type withInsert struct {
	m     sync.Map // *core.Record → func(tx core.App) error
	group groupCommit
}

// bindWithInsert runs the writes registered by WithInsert in the
// transaction of their record's insert: a caller's own transaction, else
// a group commit's (several inserts to a transaction, see groupCommit),
// else, for a record with uploads, one of its own.
func bindWithInsert(app core.App) {
	w := &withInsert{}
	app.Store().Set(withInsertKey, w)
	app.OnRecordCreateExecute().BindFunc(func(e *core.RecordEvent) error {
		f, ok := w.m.LoadAndDelete(e.Record)
		if !ok {
			return e.Next()
		}
		write := f.(func(tx core.App) error)
		if e.App.IsTransactional() { // saved inside a caller's transaction
			if err := e.Next(); err != nil {
				return err
			}
			return write(e.App)
		}
		if !hasUnsavedFiles(e.Record) {
			return w.group.insert(e.App, e, write)
		}
		app := e.App
		defer func() { e.App = app }() // the hooks after the insert get the app, not the finished transaction
		return app.RunInTransaction(func(tx core.App) error {
			e.App = tx
			if err := e.Next(); err != nil {
				return err
			}
			return write(tx)
		})
	})
}

// WithInsert has write run in the transaction that inserts r, a new
// record about to be saved (by the rest of a create request's chain), so
// that what write writes commits with r or not at all. Unlike ChainInTx,
// the transaction holds only the writes: the save's validation (its
// relation lookups) and the answer's encoding happen before and after it,
// not while SQLite's one writer is held for everyone; and inserts of
// several members that arrive together share one transaction (a group
// commit, each in its own savepoint). Call the returned
// func once the save is done or failed.
func WithInsert(app core.App, r *core.Record, write func(tx core.App) error) (done func()) {
	w, ok := app.Store().Get(withInsertKey).(*withInsert)
	if !ok {
		panic("salon: WithInsert used before salon.Register") // a wiring bug, found by any test
	}
	w.m.Store(r, write)
	return func() { w.m.Delete(r) }
}
