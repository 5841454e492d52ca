package pb_migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

// stripe_events records every Stripe event id we applied, in the same
// transaction as its effect, so a redelivered event changes nothing. No
// API rules: superusers only.
func init() {
	m.Register(func(app core.App) error {
		c := core.NewBaseCollection("stripe_events")
		c.Fields.Add(
			&core.TextField{Name: "event_id", Required: true, Max: 255, Presentable: true},
			&core.TextField{Name: "type", Max: 100},
			&core.TextField{Name: "object_id", Max: 255},
			&core.TextField{Name: "outcome", Max: 500},
		)
		addTimestamps(c)
		c.AddIndex("idx_stripe_events_event", true, "event_id", "")
		return app.Save(c)
	}, func(app core.App) error {
		c, err := app.FindCollectionByNameOrId("stripe_events")
		if err != nil {
			return err
		}
		return app.Delete(c)
	})
}
