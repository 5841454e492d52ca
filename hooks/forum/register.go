package forum

import (
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"
)

// Register binds the forum, groups and profiles.
func Register(app core.App) {
	bindForum(app)
	bindFollows(app)
	bindGroups(app)
}

// Routes binds the group and profile routes to g, the /api/salon group.
func Routes(g *router.RouterGroup[*core.RequestEvent]) {
	groupRoutes(g)
	profileRoutes(g)
}
