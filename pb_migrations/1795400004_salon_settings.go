package pb_migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
	"github.com/pocketbase/pocketbase/tools/types"
)

// salon_settings is a singleton edited in the dashboard; hooks/settings.go
// refuses a second record and its deletion. Every request reads it afresh,
// so a change takes effect at once.
func init() {
	m.Register(func(app core.App) error {
		ranks, err := app.FindCollectionByNameOrId("ranks")
		if err != nil {
			return err
		}

		c := core.NewBaseCollection("salon_settings")
		c.ListRule = types.Pointer("@request.auth.collectionName = 'users' && @request.auth.suspended = false")
		c.ViewRule = c.ListRule
		c.UpdateRule = types.Pointer("@request.auth.collectionName = 'users' && @request.auth.role = 'admin' && @request.auth.suspended = false")
		c.Fields.Add(
			&core.TextField{Name: "salon_name", Max: 100, Presentable: true},
			&core.SelectField{Name: "dm_mode", Values: []string{"open", "admin_only", "off"}, MaxSelect: 1, Required: true,
				Help: "open: rank rules apply; admin_only: members may only DM admins; off: only admins send DMs."},
			&core.RelationField{Name: "dm_member_min_rank", CollectionId: ranks.Id, MaxSelect: 1,
				Help: "Minimum rank to DM other members (empty: any rank)."},
			&core.RelationField{Name: "dm_tutor_min_rank", CollectionId: ranks.Id, MaxSelect: 1,
				Help: "Minimum rank to contact tutors (empty: any rank)."},
			&core.RelationField{Name: "dm_receive_min_rank", CollectionId: ranks.Id, MaxSelect: 1,
				Help: "Minimum rank to receive DMs from members (empty: any rank)."},
			&core.BoolField{Name: "invite_only", Help: "Signup needs an invite code."},
			&core.BoolField{Name: "member_invites", Help: "Members (not only admins) may create invite codes."},
			&core.BoolField{Name: "guest_chat", Help: "Rooms that allow guests may admit them through guest links."},
		)
		addTimestamps(c)
		if err := app.Save(c); err != nil {
			return err
		}

		r := core.NewRecord(c)
		r.Set("salon_name", "Salonbase")
		r.Set("dm_mode", "open")
		r.Set("member_invites", true)
		r.Set("guest_chat", true)
		return app.Save(r)
	}, func(app core.App) error {
		c, err := app.FindCollectionByNameOrId("salon_settings")
		if err != nil {
			return err
		}
		return app.Delete(c)
	})
}
