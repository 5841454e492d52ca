package events

import (
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"
)

// Register binds events, RSVPs and calendars.
func Register(app core.App) {
	bindEvents(app)
}

// Routes binds the event and calendar routes to g, the /api/salon group.
func Routes(g *router.RouterGroup[*core.RequestEvent]) {
	eventRoutes(g)
	calendarRoutes(g)
}
