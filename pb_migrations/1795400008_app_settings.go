package pb_migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

// Safe production defaults. PocketBase ships with its rate limiter off; we
// turn it on with limits for signup, login and every write a member can make
// (all per client IP; superusers are never limited). For prefix labels the
// first matching rule wins, so specific prefixes come before general ones.
func init() {
	m.Register(func(app core.App) error {
		s := app.Settings()
		s.Meta.AppName = "Salonbase"
		s.Logs.MaxDays = 14
		s.Logs.LogIP = true
		s.Batch.Enabled = false
		s.RateLimits.Enabled = true
		s.RateLimits.Rules = []core.RateLimitRule{
			{Label: "*:auth", MaxRequests: 10, Duration: 60},
			{Label: "*:authRefresh", MaxRequests: 30, Duration: 60},
			{Label: "*:requestOTP", MaxRequests: 5, Duration: 300},
			{Label: "*:requestPasswordReset", MaxRequests: 5, Duration: 300},
			{Label: "*:requestVerification", MaxRequests: 5, Duration: 300},
			{Label: "*:requestEmailChange", MaxRequests: 5, Duration: 300},
			{Label: "*:confirmPasswordReset", MaxRequests: 10, Duration: 300},
			{Label: "users:create", MaxRequests: 10, Duration: 3600},
			{Label: "*:create", MaxRequests: 60, Duration: 60},
			{Label: "*:update", MaxRequests: 60, Duration: 60},
			{Label: "*:delete", MaxRequests: 60, Duration: 60},
			{Label: "POST /api/salon/stripe/", MaxRequests: 1000, Duration: 60},
			{Label: "POST /api/salon/", MaxRequests: 60, Duration: 60},
			{Label: "/api/batch", MaxRequests: 3, Duration: 1},
			{Label: "/api/", MaxRequests: 300, Duration: 10},
		}
		return app.Save(s)
	}, nil)
}
