package pb_migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

// salon_name_from_v0_1: v0.1.0 seeded Application name with "Salonbase",
// so the one-salon-name migration (which moves salon_settings.salon_name
// into Application name only where that is still PocketBase's default)
// dropped the name a v0.1.0 operator had given the salon in salon_name.
// This runs just before it (its registered name sorts there; a landed
// migration is never edited) and moves such a name over first. Where the
// column is already gone it does nothing.
func init() {
	const v01Seed = "Salonbase"
	m.Register(func(app core.App) error {
		c, err := app.FindCollectionByNameOrId("salon_settings")
		if err != nil || c.Fields.GetByName("salon_name") == nil {
			return err
		}
		var name string
		_ = app.DB().NewQuery("SELECT salon_name FROM salon_settings LIMIT 1").Row(&name)
		if s := app.Settings(); name != "" && name != v01Seed && s.Meta.AppName == v01Seed {
			s.Meta.AppName = name
			return app.Save(s)
		}
		return nil
	}, nil, "1795491005_0_salon_name_from_v0_1.go")
}
