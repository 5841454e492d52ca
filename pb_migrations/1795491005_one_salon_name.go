package pb_migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

// one_salon_name: the salon had two names, Settings → Application name
// (PocketBase's own mails) and salon_settings.salon_name (our mails and
// calendar feeds). Application name is kept: it takes salon_name's value
// unless an operator had already changed it from PocketBase's default.
func init() {
	const pocketBaseDefault = "Acme"
	m.Register(func(app core.App) error {
		c, err := app.FindCollectionByNameOrId("salon_settings")
		if err != nil {
			return err
		}
		if c.Fields.GetByName("salon_name") == nil {
			return nil
		}
		var name string
		_ = app.DB().NewQuery("SELECT salon_name FROM salon_settings LIMIT 1").Row(&name)
		if s := app.Settings(); name != "" && (s.Meta.AppName == "" || s.Meta.AppName == pocketBaseDefault) {
			s.Meta.AppName = name
			if err := app.Save(s); err != nil {
				return err
			}
		}
		c.Fields.RemoveByName("salon_name")
		return app.Save(c)
	}, func(app core.App) error {
		c, err := app.FindCollectionByNameOrId("salon_settings")
		if err != nil {
			return err
		}
		c.Fields.Add(&core.TextField{Name: "salon_name", Max: 100, Presentable: true})
		if err := app.Save(c); err != nil {
			return err
		}
		_, err = app.DB().NewQuery("UPDATE salon_settings SET salon_name = {:n}").
			Bind(map[string]any{"n": app.Settings().Meta.AppName}).Execute()
		return err
	})
}
