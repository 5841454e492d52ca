package notify

import (
	"time"

	"github.com/pocketbase/pocketbase/core"
)

// The outbox worker runs on its own goroutine, while a dashboard save
// rewrites app.Settings() in place (under the settings' lock, which plain
// field reads do not take). So the worker never reads app.Settings(): it
// reads mailConfig, a copy taken under that lock when the settings load or
// reload (OnSettingsReload), published through the app store.

const mailConfigKey = "salon.mailConfig"

// mailConfig is what the outbox needs from the app settings.
type mailConfig struct {
	SMTP core.SMTPConfig
	Meta core.MetaConfig
	// SendTimeout bounds one SMTP conversation, from dial to QUIT.
	SendTimeout time.Duration
}

// bindMailConfig keeps app's mailConfig current: now if the settings are
// already loaded (the app bootstrapped before Register), and after every
// reload (a dashboard save, a restart).
func bindMailConfig(app core.App) {
	if app.IsBootstrapped() {
		refreshMailConfig(app)
	}
	app.OnSettingsReload().BindFunc(func(e *core.SettingsReloadEvent) error {
		if err := e.Next(); err != nil {
			return err
		}
		refreshMailConfig(e.App)
		return nil
	})
}

func refreshMailConfig(app core.App) {
	s, err := app.Settings().Clone() // under the settings' lock
	if err != nil {
		app.Logger().Error("email outbox: read mail settings", "error", err)
		return
	}
	app.Store().SetFunc(mailConfigKey, func(old any) any {
		timeout := outboxSendTimeout
		if o, ok := old.(*mailConfig); ok {
			timeout = o.SendTimeout
		}
		return &mailConfig{SMTP: s.SMTP, Meta: s.Meta, SendTimeout: timeout}
	})
}

// currentMailConfig returns the latest copy (taking one if none exists yet).
func currentMailConfig(app core.App) *mailConfig {
	if c, ok := app.Store().Get(mailConfigKey).(*mailConfig); ok {
		return c
	}
	refreshMailConfig(app)
	c, _ := app.Store().Get(mailConfigKey).(*mailConfig)
	if c == nil {
		c = &mailConfig{SendTimeout: outboxSendTimeout}
	}
	return c
}

// SetSendTimeout changes how long one SMTP send may take before it fails
// and its connection is closed (default one minute).
func SetSendTimeout(app core.App, d time.Duration) {
	currentMailConfig(app)
	app.Store().SetFunc(mailConfigKey, func(old any) any {
		c := *old.(*mailConfig)
		c.SendTimeout = d
		return &c
	})
}
