package pb_migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
	"github.com/pocketbase/pocketbase/tools/types"
)

// Membership ranks. "Gold and above" means rank.level >= level of Gold, so
// admins can rename ranks or insert new ones between the seeded levels.
func init() {
	m.Register(func(app core.App) error {
		c := core.NewBaseCollection("ranks")
		c.ListRule = types.Pointer("@request.auth.collectionName = 'users' && @request.auth.suspended = false")
		c.ViewRule = c.ListRule
		c.Fields.Add(
			&core.TextField{Name: "name", Required: true, Max: 50, Presentable: true},
			&core.NumberField{Name: "level", OnlyInt: true, Min: types.Pointer(0.0), Max: types.Pointer(1000.0),
				Help: "Higher is more privileged. Unique."},
			&core.TextField{Name: "description", Max: 1000},
		)
		addTimestamps(c)
		c.AddIndex("idx_ranks_name", true, "name", "")
		c.AddIndex("idx_ranks_level", true, "level", "")
		if err := app.Save(c); err != nil {
			return err
		}

		for _, seed := range []struct {
			name  string
			level int
			desc  string
		}{
			{"Free", 0, "Free membership."},
			{"Bronze", 10, "Bronze membership."},
			{"Silver", 20, "Silver membership."},
			{"Gold", 30, "Gold membership."},
			{"Platinum", 40, "Platinum membership."},
		} {
			r := core.NewRecord(c)
			r.Set("name", seed.name)
			r.Set("level", seed.level)
			r.Set("description", seed.desc)
			if err := app.Save(r); err != nil {
				return err
			}
		}
		return nil
	}, func(app core.App) error {
		c, err := app.FindCollectionByNameOrId("ranks")
		if err != nil {
			return err
		}
		return app.Delete(c)
	})
}
