package dm

import (
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"
)

// Register binds direct messages.
func Register(app core.App) {
	bindDM(app)
}

// Routes binds the DM routes to g, the /api/salon group.
func Routes(g *router.RouterGroup[*core.RequestEvent]) {
	dmRoutes(g)
}
