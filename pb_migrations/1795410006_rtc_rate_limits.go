package pb_migrations

import (
	"slices"
	"strings"

	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

// Rate limits for the media API and for placing calls (per IP). A WHIP/WHEP
// POST builds a peer connection, so it is limited more tightly than plain
// API reads; the rules go before the general ones (first match wins).
func init() {
	rules := []core.RateLimitRule{
		{Label: "POST /api/rtc/", MaxRequests: 30, Duration: 60},
		{Label: "calls:create", MaxRequests: 10, Duration: 60},
	}
	m.Register(func(app core.App) error {
		s := app.Settings()
		at := slices.IndexFunc(s.RateLimits.Rules, func(r core.RateLimitRule) bool {
			return strings.HasPrefix(r.Label, "*:") || strings.HasPrefix(r.Label, "POST /api/salon/") || r.Label == "/api/"
		})
		if at < 0 {
			at = len(s.RateLimits.Rules)
		}
		s.RateLimits.Rules = slices.Insert(s.RateLimits.Rules, at, rules...)
		return app.Save(s)
	}, func(app core.App) error {
		s := app.Settings()
		s.RateLimits.Rules = slices.DeleteFunc(s.RateLimits.Rules, func(r core.RateLimitRule) bool {
			return r.Label == rules[0].Label || r.Label == rules[1].Label
		})
		return app.Save(s)
	})
}
