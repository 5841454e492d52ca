package salon

import "github.com/pocketbase/pocketbase/core"

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
