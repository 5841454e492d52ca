package pb_migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

// The nightly pruning deletes notifications by age: index created so it
// does not scan every member's notifications.
func init() {
	m.Register(func(app core.App) error {
		c, err := app.FindCollectionByNameOrId("notifications")
		if err != nil {
			return err
		}
		c.AddIndex("idx_notifications_created", false, "created", "")
		return app.Save(c)
	}, func(app core.App) error {
		c, err := app.FindCollectionByNameOrId("notifications")
		if err != nil {
			return err
		}
		c.RemoveIndex("idx_notifications_created")
		return app.Save(c)
	})
}
