package pb_migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
	"github.com/pocketbase/pocketbase/tools/types"
)

// Chat rooms, created by admins in the dashboard. A member sees the rooms
// their rank admits (password rooms too: they join with the password to
// read them). The password is a bcrypt password field: never returned, not
// even to superusers; password_protected says whether one is set.
func init() {
	m.Register(func(app core.App) error {
		ranks, err := app.FindCollectionByNameOrId("ranks")
		if err != nil {
			return err
		}
		users, err := app.FindCollectionByNameOrId("users")
		if err != nil {
			return err
		}

		c := core.NewBaseCollection("rooms")
		// the guest clause refers to guests.room and guest_links, which a
		// later migration adds; missing auth fields resolve to NULL until then
		memberSees := "(" + roomsActiveMember + " && (@request.auth.role = 'admin' || min_rank = '' || @request.auth.rank.level >= min_rank.level))"
		c.ListRule = types.Pointer(memberSees + " || " + guestLiveRule("id", ""))
		c.ViewRule = c.ListRule
		c.Fields.Add(
			&core.TextField{Name: "name", Required: true, Max: 100, Presentable: true},
			&core.TextField{Name: "description", Max: 2000},
			&core.RelationField{Name: "min_rank", CollectionId: ranks.Id, MaxSelect: 1,
				Help: "Members below this rank neither see nor enter the room (empty: every member)."},
			&core.PasswordField{Name: "password", Hidden: true, Min: 4, Max: 71,
				Help: "Optional. Members join once with it (POST /api/salon/rooms/{id}/join). Stored hashed."},
			&core.BoolField{Name: "password_protected",
				Help: "Set automatically when a password is set; untick to remove the password."},
			&core.BoolField{Name: "allow_guests", Help: "Admins and moderators may invite non-members through guest links."},
			&core.BoolField{Name: "members_can_delete_own", Help: "Members may delete their own messages."},
			&core.BoolField{Name: "notify_members", Help: "New messages notify members whose room setting is 'all'."},
			&core.BoolField{Name: "archived", Help: "Read-only: history stays readable, nobody posts."},
			&core.RelationField{Name: "moderators", CollectionId: users.Id, MaxSelect: 50,
				Help: "Members who moderate this room: delete messages, create guest links."},
		)
		addTimestamps(c)
		c.AddIndex("idx_rooms_name", false, "name", "")
		return app.Save(c)
	}, func(app core.App) error {
		c, err := app.FindCollectionByNameOrId("rooms")
		if err != nil {
			return err
		}
		return app.Delete(c)
	})
}
