package pb_migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

// events.cover becomes a protected file: an event's cover is served only
// to those its view rule lets see the event (its rank, or its organizer
// while it is a draft), with a file token, like the event itself.
func init() {
	m.Register(func(app core.App) error {
		return setEventCoverProtected(app, true)
	}, func(app core.App) error {
		return setEventCoverProtected(app, false)
	})
}

func setEventCoverProtected(app core.App, protected bool) error {
	c, err := app.FindCollectionByNameOrId("events")
	if err != nil {
		return err
	}
	f, ok := c.Fields.GetByName("cover").(*core.FileField)
	if !ok {
		return nil // removed in the dashboard: nothing to protect
	}
	f.Protected = protected
	return app.Save(c)
}
