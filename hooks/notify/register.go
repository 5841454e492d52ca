package notify

import (
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"

	"salonbase/hooks/salon"
)

// Register binds in-app notifications, e-mail and their preferences.
func Register(app core.App) {
	bindNotifications(app)
	salon.HandlePreparedJob(app, laterJobKind, prepareLater)
}

// Routes binds the notification, preference and unsubscribe routes to g,
// the /api/salon group.
func Routes(g *router.RouterGroup[*core.RequestEvent]) {
	notificationRoutes(g)
}
