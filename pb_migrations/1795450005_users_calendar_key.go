package pb_migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

// users.calendar_key is part of the signature of a member's calendar feed
// URL; POST /api/salon/calendar/reset changes it, so a leaked URL stops
// working. Hidden: only superusers see it.
func init() {
	m.Register(func(app core.App) error {
		users, err := app.FindCollectionByNameOrId("users")
		if err != nil {
			return err
		}
		users.Fields.Add(&core.TextField{Name: "calendar_key", Hidden: true, Max: 64})
		return app.Save(users)
	}, func(app core.App) error {
		users, err := app.FindCollectionByNameOrId("users")
		if err != nil {
			return err
		}
		users.Fields.RemoveByName("calendar_key")
		return app.Save(users)
	})
}
