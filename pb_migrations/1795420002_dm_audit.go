package pb_migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
	"github.com/pocketbase/pocketbase/tools/types"
)

// dm_audit: one row each time someone who is not a party (an admin or a
// superuser) reads a DM conversation through the API, the dashboard,
// realtime or a file download. Written only by hooks/dm.go and append-only
// (the hooks refuse updates and deletes). Ids are plain text with a name
// snapshot, so the log outlives deleted accounts.
func init() {
	m.Register(func(app core.App) error {
		const admin = "(@request.auth.collectionName = 'users' && @request.auth.role = 'admin' && @request.auth.suspended = false)"

		c := core.NewBaseCollection("dm_audit")
		c.ListRule = types.Pointer(admin)
		c.ViewRule = c.ListRule
		c.Fields.Add(
			&core.TextField{Name: "reader_collection", Required: true, Max: 64,
				Help: "users (role=admin) or _superusers (dashboard)."},
			&core.TextField{Name: "reader_id", Required: true, Max: 32},
			&core.TextField{Name: "reader_name", Max: 255, Presentable: true},
			&core.TextField{Name: "party_a", Max: 32, Help: "The conversation: the two member ids, sorted."},
			&core.TextField{Name: "party_b", Max: 32},
			&core.TextField{Name: "party_names", Max: 255},
			&core.TextField{Name: "message", Max: 32, Help: "A message of the conversation that was read."},
			&core.SelectField{Name: "via", MaxSelect: 1, Required: true,
				Values: []string{"api", "realtime", "file"}},
		)
		addTimestamps(c)
		c.AddIndex("idx_dm_audit_reader", false, "reader_id, created", "")
		c.AddIndex("idx_dm_audit_parties", false, "party_a, party_b, created", "")
		return app.Save(c)
	}, func(app core.App) error {
		c, err := app.FindCollectionByNameOrId("dm_audit")
		if err != nil {
			return err
		}
		return app.Delete(c)
	})
}
