package live

import (
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"
)

// Register binds live streams and calls on the rtc media server, configured
// from the environment (see Config; Configure changes it).
func Register(app core.App) {
	configureFromEnv(app)
	bindRTC(app)
}

// Routes binds the stream key and call chat routes to g, the /api/salon
// group. The media API (/api/rtc/...) is not here: rtc.Register binds it in
// the OnServe callback that starts the media server, whose handler it is.
// Nor are the LiveKit routes (/api/salon/media, .../livekit, the webhook):
// bindLiveKit binds them next to the state they share with the media
// server's events.
func Routes(g *router.RouterGroup[*core.RequestEvent]) {
	liveRoutes(g)
	callRoutes(g)
}
