package salon

import (
	"fmt"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
)

// Settings returns the salon_settings singleton, read afresh so that a
// change made in the dashboard applies to the next request.
func Settings(app core.App) (*core.Record, error) {
	rec, err := app.FindFirstRecordByFilter("salon_settings", "")
	if err != nil {
		return nil, fmt.Errorf("load salon_settings: %w", err)
	}
	return rec, nil
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
