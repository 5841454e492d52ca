package pb_migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

// A client back from being offline asks what changed in a room since a
// moment (GET /api/salon/rooms/{id}/changes): index room, updated so that
// it reads only the changes, not the room's whole history.
func init() {
	m.Register(func(app core.App) error {
		c, err := app.FindCollectionByNameOrId("room_messages")
		if err != nil {
			return err
		}
		c.AddIndex("idx_room_messages_room_updated", false, "room, updated", "")
		return app.Save(c)
	}, func(app core.App) error {
		c, err := app.FindCollectionByNameOrId("room_messages")
		if err != nil {
			return err
		}
		c.RemoveIndex("idx_room_messages_room_updated")
		return app.Save(c)
	})
}
