package salon

import (
	"sync"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/routine"
)

// background runs f after the request without making it wait (an
// announcement may reach every member); OnTerminate waits for it.
func Background(app core.App, what string, f func() error) {
	g := backgroundGroup(app)
	g.add()
	routine.FireAndForget(func() {
		defer g.done()
		if err := f(); err != nil {
			app.Logger().Error(what, "error", err)
		}
	})
}

// running counts the app's background work. Not a sync.WaitGroup: work is
// started at any time (requests, cron jobs) while another goroutine may be
// waiting, and a WaitGroup forbids an Add from zero during a Wait.
type running struct {
	mu   sync.Mutex
	idle sync.Cond
	n    int
}

func (r *running) add() {
	r.mu.Lock()
	r.n++
	r.mu.Unlock()
}

func (r *running) done() {
	r.mu.Lock()
	r.n--
	if r.n == 0 {
		r.idle.Broadcast()
	}
	r.mu.Unlock()
}

func (r *running) wait() {
	r.mu.Lock()
	for r.n > 0 {
		r.idle.Wait()
	}
	r.mu.Unlock()
}

// backgroundGroup is the app's one count of background work (in the app's
// store: apps in one process never share it).
func backgroundGroup(app core.App) *running {
	return app.Store().GetOrSet("salon.background", func() any {
		r := &running{}
		r.idle.L = &r.mu
		return r
	}).(*running)
}

// WaitBackground waits until no background work is running (tests and
// shutdown).
func WaitBackground(app core.App) { backgroundGroup(app).wait() }
