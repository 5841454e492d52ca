package search

import (
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"
)

// Routes binds the site search to g, the /api/salon group. Search has no
// hooks of its own, so it has no Register.
func Routes(g *router.RouterGroup[*core.RequestEvent]) {
	searchRoutes(g)
}
