package notify

import "github.com/pocketbase/pocketbase/core"

// Register binds in-app notifications, e-mail and their preferences.
func Register(app core.App) {
	bindNotifications(app)
}
