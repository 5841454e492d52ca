package rooms

import "github.com/pocketbase/pocketbase/core"

// Register binds chat rooms, their guests, realtime, search and export.
func Register(app core.App) {
	bindRooms(app)
}
