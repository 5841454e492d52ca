package pb_migrations

import (
	"slices"

	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

// Search reads are dearer than a list: GET /api/salon/search gets its own
// per-IP limit, placed before the general /api/ rule (the first matching
// prefix rule wins).
func init() {
	m.Register(func(app core.App) error {
		s := app.Settings()
		rule := core.RateLimitRule{Label: "GET /api/salon/search", MaxRequests: 30, Duration: 10}
		at := slices.IndexFunc(s.RateLimits.Rules, func(r core.RateLimitRule) bool { return r.Label == "/api/" })
		if at < 0 {
			at = len(s.RateLimits.Rules)
		}
		s.RateLimits.Rules = slices.Insert(s.RateLimits.Rules, at, rule)
		return app.Save(s)
	}, func(app core.App) error {
		s := app.Settings()
		s.RateLimits.Rules = slices.DeleteFunc(s.RateLimits.Rules, func(r core.RateLimitRule) bool {
			return r.Label == "GET /api/salon/search"
		})
		return app.Save(s)
	})
}
