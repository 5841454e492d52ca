package pb_migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
	"github.com/pocketbase/pocketbase/tools/types"
)

// room_members records that a member joined a room (POST
// /api/salon/rooms/{id}/join, which checks the password) and holds their
// notification preference and read marker. A member sees and edits only
// their own memberships; admins see all and may remove anyone.
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

		c := core.NewBaseCollection("room_members")
		own := roomsActiveMember + " && user = @request.auth.id"
		c.ListRule = types.Pointer("(" + own + ") || " + roomsAdmin)
		c.ViewRule = c.ListRule
		c.CreateRule = types.Pointer(roomsAdmin)
		c.UpdateRule = types.Pointer("((" + own + ") || " + roomsAdmin + ")" +
			" && @request.body.room:changed = false && @request.body.user:changed = false")
		c.DeleteRule = types.Pointer("(" + own + ") || " + roomsAdmin)
		c.Fields.Add(
			&core.RelationField{Name: "room", CollectionId: rooms.Id, MaxSelect: 1, Required: true, CascadeDelete: true},
			&core.RelationField{Name: "user", CollectionId: users.Id, MaxSelect: 1, Required: true, CascadeDelete: true},
			&core.SelectField{Name: "notify", Values: []string{"all", "mentions", "none"}, MaxSelect: 1,
				Help: "all: every new message (when the room notifies members); mentions: only @mentions; none: nothing."},
			&core.DateField{Name: "last_read_at"},
		)
		addTimestamps(c)
		c.AddIndex("idx_room_members_pair", true, "room, user", "")
		c.AddIndex("idx_room_members_user", false, "user", "")
		return app.Save(c)
	}, func(app core.App) error {
		c, err := app.FindCollectionByNameOrId("room_members")
		if err != nil {
			return err
		}
		return app.Delete(c)
	})
}
