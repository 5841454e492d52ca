package pb_migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

// The built-in TURN server: its port and the name clients reach it at.
func init() {
	m.Register(func(app core.App) error {
		c, err := app.FindCollectionByNameOrId("salon_settings")
		if err != nil {
			return err
		}
		c.Fields.Add(
			&core.NumberField{Name: "rtc_turn_port", OnlyInt: true,
				Help: "Run the built-in TURN server on this port, UDP and TCP (open both; applies at restart). 0: none."},
			&core.TextField{Name: "rtc_turn_host", Max: 200,
				Help: "Host name or IP clients reach the built-in TURN server at (empty: the host of their request)."},
		)
		return app.Save(c)
	}, func(app core.App) error {
		c, err := app.FindCollectionByNameOrId("salon_settings")
		if err != nil {
			return err
		}
		c.Fields.RemoveByName("rtc_turn_port")
		c.Fields.RemoveByName("rtc_turn_host")
		return app.Save(c)
	})
}
