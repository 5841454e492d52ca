package pb_migrations

import (
	"slices"

	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

// Rate limits for the room routes, placed before the general
// "POST /api/salon/" rule (the first matching prefix wins): guest joins
// create accounts, room routes include the password join (the handler also
// counts wrong passwords per member and room).
func init() {
	m.Register(func(app core.App) error {
		s := app.Settings()
		rules := []core.RateLimitRule{
			{Label: "POST /api/salon/guests/join", MaxRequests: 10, Duration: 600},
			{Label: "POST /api/salon/rooms/", MaxRequests: 40, Duration: 60},
		}
		at := slices.IndexFunc(s.RateLimits.Rules, func(r core.RateLimitRule) bool { return r.Label == "POST /api/salon/" })
		if at < 0 {
			at = len(s.RateLimits.Rules)
		}
		s.RateLimits.Rules = slices.Insert(s.RateLimits.Rules, at, rules...)
		return app.Save(s)
	}, nil)
}
