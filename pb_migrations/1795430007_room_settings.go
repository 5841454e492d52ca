package pb_migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
	"github.com/pocketbase/pocketbase/tools/types"
)

// IP addresses on room messages are personal data: they are kept for
// moderation only as long as the operator says (a daily job clears older ones).
func init() {
	m.Register(func(app core.App) error {
		c, err := app.FindCollectionByNameOrId("salon_settings")
		if err != nil {
			return err
		}
		c.Fields.Add(&core.NumberField{Name: "room_ip_retention_days", OnlyInt: true, Min: types.Pointer(0.0),
			Help: "Days to keep the IP address of room messages (0: do not keep them at all)."})
		if err := app.Save(c); err != nil {
			return err
		}
		s, err := app.FindFirstRecordByFilter("salon_settings", "")
		if err != nil {
			return err
		}
		s.Set("room_ip_retention_days", 90)
		return app.Save(s)
	}, func(app core.App) error {
		c, err := app.FindCollectionByNameOrId("salon_settings")
		if err != nil {
			return err
		}
		c.Fields.RemoveByName("room_ip_retention_days")
		return app.Save(c)
	})
}
