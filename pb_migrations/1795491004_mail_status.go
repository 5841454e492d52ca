package pb_migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

// mail_status: whether the salon can send e-mail, written by the server, so
// that the dashboard says when mail is not configured (the outbox then holds
// its mail instead of failing it).
func init() {
	m.Register(func(app core.App) error {
		c, err := app.FindCollectionByNameOrId("salon_settings")
		if err != nil {
			return err
		}
		c.Fields.Add(&core.TextField{Name: "mail_status", Max: 300, Hidden: true,
			Help: "Set by the server (edits are overwritten): whether e-mail can be sent. Configure SMTP in Settings → Mail settings."})
		return app.Save(c)
	}, func(app core.App) error {
		c, err := app.FindCollectionByNameOrId("salon_settings")
		if err != nil {
			return err
		}
		c.Fields.RemoveByName("mail_status")
		return app.Save(c)
	})
}
