package salon

import (
	"fmt"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
)

// Settings returns the salon_settings singleton: a copy of the cached one
// (cache.go), which a change made in the dashboard replaces before the
// next request. The copy is the caller's to change and save.
func Settings(app core.App) (*core.Record, error) {
	rec, err := CachedConfig(app, "settings", func() (*core.Record, error) {
		return app.FindFirstRecordByFilter("salon_settings", "")
	})
	if err != nil {
		return nil, fmt.Errorf("load salon_settings: %w", err)
	}
	return rec.Clone(), nil
}

// bindSettings keeps salon_settings a singleton, whoever writes it
// (API, dashboard or Go).
func bindSettings(app core.App) {
	app.OnRecordCreate("salon_settings").BindFunc(func(e *core.RecordEvent) error {
		n, err := e.App.CountRecords("salon_settings")
		if err != nil {
			return err
		}
		if n > 0 {
			return apis.NewBadRequestError("salon_settings has exactly one record: edit it instead of adding another.", nil)
		}
		return e.Next()
	})

	app.OnRecordDelete("salon_settings").BindFunc(func(e *core.RecordEvent) error {
		return apis.NewBadRequestError("salon_settings cannot be deleted: edit it instead.", nil)
	})
}

// Name is the salon's one name: Settings → Application name in the
// dashboard, used in PocketBase's own mails, ours and the calendar feeds.
func Name(app core.App) string {
	return app.Settings().Meta.AppName
}
