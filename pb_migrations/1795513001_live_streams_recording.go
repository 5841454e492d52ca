package pb_migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

// live_streams.record: the host's choice, before going live, to record the
// stream for replay (off unless chosen). live_streams.recording: the WebM
// file the media server made of it, attached by the server when the stream
// ended; protected, so only those the view rule lets watch the stream can
// fetch it (with a file token). Written by the server only.
func init() {
	m.Register(func(app core.App) error {
		c, err := app.FindCollectionByNameOrId("live_streams")
		if err != nil {
			return err
		}
		c.Fields.Add(
			&core.BoolField{Name: "record", Help: "Record the stream for replay (chosen by the host before going live)."},
			&core.FileField{Name: "recording", MaxSelect: 1, MaxSize: 16 << 30, Protected: true,
				Help: "The recording (WebM), attached by the server when the stream ends."},
		)
		return app.Save(c)
	}, func(app core.App) error {
		c, err := app.FindCollectionByNameOrId("live_streams")
		if err != nil {
			return err
		}
		c.Fields.RemoveByName("record")
		c.Fields.RemoveByName("recording")
		return app.Save(c)
	})
}
