package pb_migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
	"github.com/pocketbase/pocketbase/tools/types"
)

// Extends the built-in users collection into salon members.
//
// Members see each other's public profile; the privileged fields (rank,
// role, invited_by, suspended, verified) can be changed only by superusers
// and role=admin users. hooks/users.go enforces the same with clear 400s and
// hides the private fields from other members.
func init() {
	m.Register(func(app core.App) error {
		users, err := app.FindCollectionByNameOrId("users")
		if err != nil {
			return err
		}
		ranks, err := app.FindCollectionByNameOrId("ranks")
		if err != nil {
			return err
		}

		name, _ := users.Fields.GetByName("name").(*core.TextField)
		name.Required = true
		name.Max = 100
		name.Presentable = true

		// raster images only: SVG can carry script
		avatar, _ := users.Fields.GetByName("avatar").(*core.FileField)
		avatar.MimeTypes = []string{"image/jpeg", "image/png", "image/gif", "image/webp"}
		avatar.MaxSize = 5 << 20
		avatar.Thumbs = []string{"100x100", "400x400"}

		users.Fields.Add(
			&core.TextField{Name: "bio", Max: 2000},
			&core.RelationField{Name: "rank", CollectionId: ranks.Id, MaxSelect: 1,
				Help: "Membership rank. Set by admins; new members get the lowest rank."},
			&core.SelectField{Name: "role", Values: []string{"member", "tutor", "admin"}, MaxSelect: 1,
				Help: "admin: receives members' DMs and moderates inside the app."},
			&core.RelationField{Name: "invited_by", CollectionId: users.Id, MaxSelect: 1},
			&core.BoolField{Name: "suspended", Help: "Suspended members are logged out and denied everywhere."},
			&core.SelectField{Name: "lang", Values: []string{"en", "ja"}, MaxSelect: 1},
		)
		users.AddIndex("idx_users_rank", false, "rank", "")
		users.AddIndex("idx_users_invited_by", false, "invited_by", "")

		const active = "@request.auth.collectionName = 'users' && @request.auth.suspended = false"
		const admin = "(@request.auth.collectionName = 'users' && @request.auth.role = 'admin' && @request.auth.suspended = false)"
		const keepPrivileges = "@request.body.rank:changed = false && @request.body.role:changed = false && " +
			"@request.body.invited_by:changed = false && @request.body.suspended:changed = false && " +
			"@request.body.verified:changed = false"

		users.ListRule = types.Pointer(active)
		users.ViewRule = types.Pointer(active)
		users.CreateRule = types.Pointer(admin + " || (" +
			"@request.body.rank:isset = false && @request.body.role:isset = false && " +
			"@request.body.invited_by:isset = false && @request.body.suspended:isset = false && " +
			"@request.body.verified:isset = false)")
		users.UpdateRule = types.Pointer(admin + " || (id = @request.auth.id && " + active + " && " + keepPrivileges + ")")
		users.DeleteRule = types.Pointer(admin + " || (id = @request.auth.id && " + active + ")")
		users.ManageRule = types.Pointer(admin)

		return app.Save(users)
	}, func(app core.App) error {
		users, err := app.FindCollectionByNameOrId("users")
		if err != nil {
			return err
		}
		for _, f := range []string{"bio", "rank", "role", "invited_by", "suspended", "lang"} {
			users.Fields.RemoveByName(f)
		}
		users.RemoveIndex("idx_users_rank")
		users.RemoveIndex("idx_users_invited_by")
		return app.Save(users)
	})
}
