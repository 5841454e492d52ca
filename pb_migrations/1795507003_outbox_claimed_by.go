package pb_migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

// outbox_claimed_by: which server process claimed an e-mail. A server that
// starts takes over the claims an earlier process left (it crashed) at
// once, instead of waiting for them to go stale (hooks/notify/outbox.go).
func init() {
	m.Register(func(app core.App) error {
		c, err := app.FindCollectionByNameOrId("email_outbox")
		if err != nil {
			return err
		}
		c.Fields.Add(&core.TextField{Name: "claimed_by", Max: 40,
			Help: "Set by the server: the process (a random id per start) that claimed the row for sending."})
		return app.Save(c)
	}, func(app core.App) error {
		c, err := app.FindCollectionByNameOrId("email_outbox")
		if err != nil {
			return err
		}
		c.Fields.RemoveByName("claimed_by")
		return app.Save(c)
	})
}
