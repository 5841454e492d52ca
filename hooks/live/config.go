package live

import (
	"os"
	"sync/atomic"

	"github.com/pocketbase/pocketbase/core"
)

// Config is how one app's media server is set up beyond salon_settings.
// Register takes it from the process environment; Configure replaces it, so
// that every app in a process (the tests start many, in parallel) can have
// its own.
type Config struct {
	// Loopback offers 127.0.0.1 candidates: tests and demos on one machine.
	Loopback bool // SALON_RTC_LOOPBACK=1
	// MaxOffersPerMember replaces the media server's default (30 a minute);
	// tests lower it.
	MaxOffersPerMember int
}

// ConfigFromEnv reads a Config from the environment variables named on its
// fields; getenv is os.Getenv outside tests.
func ConfigFromEnv(getenv func(string) string) Config {
	return Config{Loopback: getenv("SALON_RTC_LOOPBACK") == "1"}
}

// Configure sets app's media configuration; the media server reads it when
// the app starts serving.
func Configure(app core.App, c Config) { configOf(app).Store(&c) }

// ConfigOf is app's media configuration in effect.
func ConfigOf(app core.App) Config {
	if c := configOf(app).Load(); c != nil {
		return *c
	}
	return Config{}
}

func configOf(app core.App) *atomic.Pointer[Config] {
	return app.Store().GetOrSet("salon.live.config", func() any {
		return new(atomic.Pointer[Config])
	}).(*atomic.Pointer[Config])
}

// configureFromEnv is Register's default.
func configureFromEnv(app core.App) { Configure(app, ConfigFromEnv(os.Getenv)) }
