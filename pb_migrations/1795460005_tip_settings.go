package pb_migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
	"github.com/pocketbase/pocketbase/tools/types"
)

// Tip limits for live streams, edited by admins in salon_settings. Members
// read them (the client shows the presets); hooks/tips.go enforces them.
func init() {
	m.Register(func(app core.App) error {
		c, err := app.FindCollectionByNameOrId("salon_settings")
		if err != nil {
			return err
		}
		c.Fields.Add(
			&core.TextField{Name: "tip_currency", Min: 3, Max: 3, Pattern: `^[a-z]{3}$`,
				Help: "Currency of tips (lower case ISO code, e.g. jpy)."},
			&core.NumberField{Name: "tip_min", OnlyInt: true, Min: types.Pointer(1.0),
				Help: "Smallest tip, in the currency's smallest unit (yen for JPY, cents for USD)."},
			&core.NumberField{Name: "tip_max", OnlyInt: true, Min: types.Pointer(1.0),
				Help: "Largest tip, in the currency's smallest unit."},
			&core.JSONField{Name: "tip_presets", MaxSize: 2000,
				Help: "Suggested amounts shown to viewers, e.g. [300, 500, 1000]."},
		)
		if err := app.Save(c); err != nil {
			return err
		}
		s, err := app.FindFirstRecordByFilter(c, "")
		if err != nil {
			return err
		}
		s.Set("tip_currency", "jpy")
		s.Set("tip_min", 100)
		s.Set("tip_max", 50000)
		s.Set("tip_presets", []int{300, 500, 1000, 3000})
		return app.Save(s)
	}, func(app core.App) error {
		c, err := app.FindCollectionByNameOrId("salon_settings")
		if err != nil {
			return err
		}
		for _, name := range []string{"tip_currency", "tip_min", "tip_max", "tip_presets"} {
			c.Fields.RemoveByName(name)
		}
		return app.Save(c)
	})
}
