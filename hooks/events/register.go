package events

import "github.com/pocketbase/pocketbase/core"

// Register binds events, RSVPs and calendars.
func Register(app core.App) {
	bindEvents(app)
	bindCalendar(app)
}
