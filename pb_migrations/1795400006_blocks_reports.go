package pb_migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
	"github.com/pocketbase/pocketbase/tools/types"
)

// blocks: a member manages only their own blocks (admins may read them for
// moderation). reports: visible to their reporter and to admins; only admins
// change their status.
func init() {
	m.Register(func(app core.App) error {
		users, err := app.FindCollectionByNameOrId("users")
		if err != nil {
			return err
		}

		const active = "@request.auth.collectionName = 'users' && @request.auth.suspended = false"
		const admin = "(@request.auth.collectionName = 'users' && @request.auth.role = 'admin' && @request.auth.suspended = false)"

		blocks := core.NewBaseCollection("blocks")
		blocks.ListRule = types.Pointer(admin + " || (" + active + " && user = @request.auth.id)")
		blocks.ViewRule = blocks.ListRule
		blocks.CreateRule = types.Pointer(active +
			" && (@request.body.user:isset = false || @request.body.user = @request.auth.id)" +
			" && @request.body.blocked != @request.auth.id")
		blocks.DeleteRule = types.Pointer(active + " && user = @request.auth.id")
		blocks.Fields.Add(
			&core.RelationField{Name: "user", CollectionId: users.Id, MaxSelect: 1, Required: true, CascadeDelete: true},
			&core.RelationField{Name: "blocked", CollectionId: users.Id, MaxSelect: 1, Required: true, CascadeDelete: true},
		)
		addTimestamps(blocks)
		blocks.AddIndex("idx_blocks_pair", true, "user, blocked", "")
		blocks.AddIndex("idx_blocks_blocked", false, "blocked", "")
		if err := app.Save(blocks); err != nil {
			return err
		}

		reports := core.NewBaseCollection("reports")
		reports.ListRule = types.Pointer(admin + " || (" + active + " && reporter = @request.auth.id)")
		reports.ViewRule = reports.ListRule
		reports.CreateRule = types.Pointer(active +
			" && (@request.body.reporter:isset = false || @request.body.reporter = @request.auth.id)" +
			" && @request.body.status:isset = false && @request.body.admin_note:isset = false" +
			" && @request.body.handled_by:isset = false")
		reports.UpdateRule = types.Pointer(admin + " && @request.body.reporter:changed = false" +
			" && @request.body.target_collection:changed = false && @request.body.target_id:changed = false")
		reports.Fields.Add(
			&core.RelationField{Name: "reporter", CollectionId: users.Id, MaxSelect: 1, Required: true},
			&core.TextField{Name: "target_collection", Required: true, Max: 64},
			&core.TextField{Name: "target_id", Required: true, Max: 32},
			&core.SelectField{Name: "category", Values: []string{"spam", "harassment", "inappropriate", "terms", "other"}, MaxSelect: 1},
			&core.TextField{Name: "reason", Required: true, Max: 2000},
			&core.SelectField{Name: "status", Values: []string{"open", "reviewing", "resolved", "dismissed"}, MaxSelect: 1, Required: true},
			&core.TextField{Name: "admin_note", Max: 2000},
			&core.RelationField{Name: "handled_by", CollectionId: users.Id, MaxSelect: 1},
		)
		addTimestamps(reports)
		reports.AddIndex("idx_reports_target", true, "reporter, target_collection, target_id", "")
		reports.AddIndex("idx_reports_status", false, "status, created", "")
		return app.Save(reports)
	}, func(app core.App) error {
		for _, name := range []string{"reports", "blocks"} {
			c, err := app.FindCollectionByNameOrId(name)
			if err != nil {
				return err
			}
			if err := app.Delete(c); err != nil {
				return err
			}
		}
		return nil
	})
}
