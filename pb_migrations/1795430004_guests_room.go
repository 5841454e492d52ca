package pb_migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

// A guest belongs to the one room whose link they opened. Deleting the link
// deletes its guests (their messages stay, with the name they used).
func init() {
	m.Register(func(app core.App) error {
		guests, err := app.FindCollectionByNameOrId("guests")
		if err != nil {
			return err
		}
		rooms, err := app.FindCollectionByNameOrId("rooms")
		if err != nil {
			return err
		}
		links, err := app.FindCollectionByNameOrId("guest_links")
		if err != nil {
			return err
		}
		guests.Fields.Add(
			&core.RelationField{Name: "room", CollectionId: rooms.Id, MaxSelect: 1, CascadeDelete: true},
			&core.RelationField{Name: "guest_link", CollectionId: links.Id, MaxSelect: 1, CascadeDelete: true},
		)
		guests.AddIndex("idx_guests_link", false, "guest_link", "")
		return app.Save(guests)
	}, func(app core.App) error {
		guests, err := app.FindCollectionByNameOrId("guests")
		if err != nil {
			return err
		}
		guests.RemoveIndex("idx_guests_link")
		guests.Fields.RemoveByName("room")
		guests.Fields.RemoveByName("guest_link")
		return app.Save(guests)
	})
}
