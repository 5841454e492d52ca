package pb_migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

// email_outbox is the durable queue between Notify and SMTP: a request only
// writes a row; the worker in hooks/outbox.go claims rows in a transaction,
// sends them through the PocketBase mailer and marks them sent or failed.
// Superusers only (nil rules): it holds addresses and message bodies.
func init() {
	m.Register(func(app core.App) error {
		users, err := app.FindCollectionByNameOrId("users")
		if err != nil {
			return err
		}
		c := core.NewBaseCollection("email_outbox")
		c.Fields.Add(
			&core.RelationField{Name: "user", CollectionId: users.Id, MaxSelect: 1, CascadeDelete: true},
			&core.EmailField{Name: "to", Required: true},
			&core.TextField{Name: "to_name", Max: 200},
			&core.TextField{Name: "kind", Max: 50},
			&core.TextField{Name: "subject", Required: true, Max: 300},
			&core.TextField{Name: "text", Max: 20000},
			&core.TextField{Name: "html", Max: 60000},
			&core.JSONField{Name: "headers", MaxSize: 4000},
			&core.SelectField{Name: "status", Values: []string{"pending", "sending", "sent", "failed"}, MaxSelect: 1, Required: true,
				Help: "pending: waiting; sending: claimed by the worker; sent; failed: gave up after the last retry."},
			&core.NumberField{Name: "attempts", OnlyInt: true},
			&core.DateField{Name: "next_attempt_at"},
			&core.DateField{Name: "claimed_at"},
			&core.DateField{Name: "sent_at"},
			&core.TextField{Name: "last_error", Max: 1000},
		)
		addTimestamps(c)
		c.AddIndex("idx_email_outbox_due", false, "status, next_attempt_at", "")
		return app.Save(c)
	}, func(app core.App) error {
		c, err := app.FindCollectionByNameOrId("email_outbox")
		if err != nil {
			return err
		}
		return app.Delete(c)
	})
}
