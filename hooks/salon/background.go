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

var backgroundMu sync.Mutex

func backgroundGroup(app core.App) *sync.WaitGroup {
	backgroundMu.Lock()
	defer backgroundMu.Unlock()
	wg, ok := app.Store().Get("salon.background").(*sync.WaitGroup)
	if !ok {
		wg = new(sync.WaitGroup)
		app.Store().Set("salon.background", wg)
	}
	return wg
}

// WaitBackground waits for the background work started so far (tests and
// shutdown).
func WaitBackground(app core.App) { backgroundGroup(app).Wait() }
