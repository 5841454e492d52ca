package rooms

import (
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"
)

// Register binds chat rooms, their guests, realtime, search and export.
func Register(app core.App) {
	bindRooms(app)
}

// Routes binds the room routes (join, guest links, search, changes,
// attachment limits, export, presence and typing) to g, the /api/salon group.
func Routes(g *router.RouterGroup[*core.RequestEvent]) {
	roomRoutes(g)
	guestRoutes(g)
	roomSearchRoutes(g)
	roomChangesRoutes(g)
	roomLimitsRoutes(g)
	roomExportRoutes(g)
	roomRealtimeRoutes(g)
}
