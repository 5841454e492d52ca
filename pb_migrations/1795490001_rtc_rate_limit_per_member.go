package pb_migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

// The media server now limits offers per member (30 a minute); the per-IP
// limit on media POSTs rises from 30 to 600 a minute so that a room of
// members behind one NAT (a seminar venue, an office) can all join.
func init() {
	set := func(app core.App, n int) error {
		s := app.Settings()
		for i, r := range s.RateLimits.Rules {
			if r.Label == "POST /api/rtc/" {
				s.RateLimits.Rules[i].MaxRequests = n
			}
		}
		return app.Save(s)
	}
	m.Register(func(app core.App) error { return set(app, 600) },
		func(app core.App) error { return set(app, 30) })
}
