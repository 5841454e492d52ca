package payments

import (
	"os"

	"github.com/pocketbase/pocketbase/core"
)

// Config is how one app reaches Stripe. Register takes it from the process
// environment; Configure replaces it, so that every app in a process (the
// tests start many) can have its own.
type Config struct {
	// SecretKey and WebhookSecret win over the salon_settings fields, so that
	// operators can keep the secrets out of the database.
	SecretKey     string // STRIPE_SECRET_KEY
	WebhookSecret string // STRIPE_WEBHOOK_SECRET
	// APIBase points the Stripe client at another API server (stripe-mock in
	// tests and local development); empty means Stripe's own.
	APIBase string // STRIPE_API_BASE
}

// ConfigFromEnv reads a Config from the environment variables named on its
// fields; getenv is os.Getenv outside tests.
func ConfigFromEnv(getenv func(string) string) Config {
	return Config{
		SecretKey:     getenv("STRIPE_SECRET_KEY"),
		WebhookSecret: getenv("STRIPE_WEBHOOK_SECRET"),
		APIBase:       getenv("STRIPE_API_BASE"),
	}
}

// Configure sets app's Stripe configuration; it takes effect at the next
// request or job, also while the app serves.
func Configure(app core.App, c Config) { stateOf(app).config.Store(&c) }

// ConfigOf is app's Stripe configuration in effect.
func ConfigOf(app core.App) Config {
	if c := stateOf(app).config.Load(); c != nil {
		return *c
	}
	return Config{}
}

// configureFromEnv is Register's default.
func configureFromEnv(app core.App) { Configure(app, ConfigFromEnv(os.Getenv)) }
