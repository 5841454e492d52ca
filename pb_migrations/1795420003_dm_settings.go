package pb_migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
	"github.com/pocketbase/pocketbase/tools/types"
)

// salon_settings.dm_max_attachment_mb: the size limit of each DM attachment,
// checked by hooks/dm.go on send. The dm_messages schema caps it at 100 MB.
func init() {
	m.Register(func(app core.App) error {
		c, err := app.FindCollectionByNameOrId("salon_settings")
		if err != nil {
			return err
		}
		c.Fields.Add(&core.NumberField{Name: "dm_max_attachment_mb", OnlyInt: true,
			Min: types.Pointer(1.0), Max: types.Pointer(100.0),
			Help: "Largest DM attachment in MB (each file; at most 100)."})
		if err := app.Save(c); err != nil {
			return err
		}
		records, err := app.FindAllRecords(c)
		if err != nil {
			return err
		}
		for _, r := range records {
			r.Set("dm_max_attachment_mb", 20)
			if err := app.Save(r); err != nil {
				return err
			}
		}
		return nil
	}, func(app core.App) error {
		c, err := app.FindCollectionByNameOrId("salon_settings")
		if err != nil {
			return err
		}
		c.Fields.RemoveByName("dm_max_attachment_mb")
		return app.Save(c)
	})
}
