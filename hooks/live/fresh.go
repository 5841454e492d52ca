package live

import "github.com/pocketbase/pocketbase/core"

// saveOverFresh saves a member's or admin's edit in a transaction, over the
// record as it is then. PocketBase read the record before the request's
// hooks and saves every column, so what the server wrote in between (a
// stream that went live or got its recording, a call the ring timer marked
// missed) would be written back as it was, and PocketBase would delete a
// file it no longer sees. Each of fields the request left as PocketBase
// read it takes its stored value; check, if given, then decides on the
// stored record (a status move is judged from the status stored now).
func saveOverFresh(e *core.RecordRequestEvent, orig *core.Record, fields []string, check func(fresh *core.Record) error) error {
	app := e.App
	defer func() { e.App = app }()
	return app.RunInTransaction(func(tx core.App) error {
		fresh, err := tx.FindRecordById(e.Record.Collection(), e.Record.Id)
		if err != nil {
			return e.NotFoundError("It was deleted meanwhile.", nil)
		}
		for _, f := range fields {
			if e.Record.GetString(f) == orig.GetString(f) {
				e.Record.Set(f, fresh.Get(f))
			}
		}
		if check != nil {
			if err := check(fresh); err != nil {
				return err
			}
		}
		e.App = tx
		return e.Next()
	})
}
