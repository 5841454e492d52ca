package notify

import "github.com/pocketbase/pocketbase/core"

// RunningOutbox returns the worker the app's serve started, or nil; for
// the tests that stop it around a settings save (notify_test's
// saveSettingsWithOutboxStopped).
func RunningOutbox(app core.App) *OutboxWorker {
	w, _ := app.Store().Get(outboxStoreKey).(*OutboxWorker)
	return w
}
