package events

import (
	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"
)

// checkStream keeps an event's linked live stream one of its organizer's
// own: the event page sends members to it to watch, so nobody links a
// stream they do not host (another member's, or one that does not exist).
func checkStream(e *core.RecordRequestEvent) error {
	id := e.Record.GetString("stream")
	if id == "" {
		return nil
	}
	if orig := e.Record.Original(); !e.Record.IsNew() && id == orig.GetString("stream") &&
		e.Record.GetString("organizer") == orig.GetString("organizer") {
		return nil // unchanged
	}
	stream, err := e.App.FindRecordById("live_streams", id)
	if err != nil || stream.GetString("host") != e.Record.GetString("organizer") {
		return e.BadRequestError("The linked live stream must be one the organizer hosts.", validation.Errors{
			"stream": validation.NewError("validation_event_stream", "Link one of the organizer's own live streams."),
		})
	}
	return nil
}
