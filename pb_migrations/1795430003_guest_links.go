package pb_migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
	"github.com/pocketbase/pocketbase/tools/types"
)

// guest_links admit non-members to one room. The route POST
// /api/salon/rooms/{id}/guest-links creates them and returns the token once;
// only its SHA-256 is stored. Revoking (or deleting) a link ends the access
// of every guest who joined through it.
func init() {
	m.Register(func(app core.App) error {
		users, err := app.FindCollectionByNameOrId("users")
		if err != nil {
			return err
		}
		rooms, err := app.FindCollectionByNameOrId("rooms")
		if err != nil {
			return err
		}

		c := core.NewBaseCollection("guest_links")
		moderates := "(" + roomsAdmin + " || (" + roomsActiveMember + " && room.moderators.id ?= @request.auth.id))"
		c.ListRule = types.Pointer(moderates)
		c.ViewRule = c.ListRule
		c.UpdateRule = types.Pointer(moderates + " && @request.body.room:changed = false && @request.body.created_by:changed = false && @request.body.uses:changed = false")
		c.DeleteRule = types.Pointer(moderates)
		c.Fields.Add(
			&core.RelationField{Name: "room", CollectionId: rooms.Id, MaxSelect: 1, Required: true, CascadeDelete: true},
			&core.TextField{Name: "label", Max: 100, Presentable: true},
			&core.TextField{Name: "token_hash", Hidden: true, Required: true, Max: 64},
			&core.DateField{Name: "expires_at", Required: true},
			&core.BoolField{Name: "revoked", Help: "Tick to end the access of every guest who used this link."},
			&core.NumberField{Name: "uses", OnlyInt: true},
			&core.RelationField{Name: "created_by", CollectionId: users.Id, MaxSelect: 1},
		)
		addTimestamps(c)
		c.AddIndex("idx_guest_links_token", true, "token_hash", "")
		c.AddIndex("idx_guest_links_room", false, "room", "")
		return app.Save(c)
	}, func(app core.App) error {
		c, err := app.FindCollectionByNameOrId("guest_links")
		if err != nil {
			return err
		}
		return app.Delete(c)
	})
}
