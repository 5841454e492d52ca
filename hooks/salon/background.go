package salon

import (
	"sync"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/routine"
)

// background runs f after the request without making it wait (an
// announcement may reach every member); OnTerminate waits for it.
func Background(app core.App, what string, f func() error) {
	wg := backgroundGroup(app)
	routine.FireAndForget(func() {
		if err := f(); err != nil {
			app.Logger().Error(what, "error", err)
		}
	}, wg)
}

// backgroundGroup is the app's one wait group for background work (in the
// app's store: apps in one process never share it).
func backgroundGroup(app core.App) *sync.WaitGroup {
	return app.Store().GetOrSet("salon.background", func() any {
		return new(sync.WaitGroup)
	}).(*sync.WaitGroup)
}

// WaitBackground waits for the background work started so far (tests and
// shutdown).
func WaitBackground(app core.App) { backgroundGroup(app).Wait() }
