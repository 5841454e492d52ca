package notify

import (
	"fmt"

	"github.com/pocketbase/pocketbase/core"

	"salonbase/hooks/salon"
)

// Without SMTP (Settings → Mail settings) PocketBase falls back to the
// sendmail program, which a server seldom has: every e-mail would fail and
// burn its retries. So the outbox holds its mail until SMTP is configured,
// and says so once in the log and in salon_settings.mail_status.

const (
	mailStatusKey   = "salon.mailStatus"
	MailStatusReady = "ready: e-mail is sent through the SMTP server in Settings → Mail settings"
	MailStatusOff   = "not configured: e-mails wait in email_outbox until SMTP is set up in Settings → Mail settings"
)

// mailReady reports whether e-mail can be sent now, noting a change.
func mailReady(app core.App) bool {
	ready := currentMailConfig(app).SMTP.Enabled
	status := MailStatusOff
	if ready {
		status = MailStatusReady
	}
	changed := false
	app.Store().SetFunc(mailStatusKey, func(old any) any {
		changed = old != status
		return status
	})
	if changed {
		noteMailStatus(app, ready, status)
	}
	return ready
}

func noteMailStatus(app core.App, ready bool, status string) {
	if ready {
		app.Logger().Info("email outbox: " + status)
	} else {
		var waiting int
		_ = app.DB().NewQuery("SELECT COUNT(*) FROM {{email_outbox}} WHERE [[status]] IN ('pending', 'sending')").Row(&waiting)
		app.Logger().Warn("email outbox: mail is "+status, "waiting", waiting)
	}
	// the column alone: no hooks, no clash with an operator's edit
	if _, err := app.DB().NewQuery("UPDATE {{salon_settings}} SET [[mail_status]] = {:s} WHERE [[mail_status]] != {:s}").
		Bind(map[string]any{"s": status}).Execute(); err != nil {
		app.Logger().Error("email outbox: note mail status", "error", fmt.Errorf("salon_settings.mail_status: %w", err))
	}
	salon.ForgetConfig(app) // the record hooks did not see this write
}
