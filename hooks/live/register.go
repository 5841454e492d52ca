package live

import "github.com/pocketbase/pocketbase/core"

// Register binds live streams and calls on the rtc media server.
func Register(app core.App) {
	bindRTC(app)
}
