// Package hooks extends PocketBase into Salonbase: one file per feature,
// all bound here, in one readable function.
package hooks

import "github.com/pocketbase/pocketbase/core"

// Register binds every Salonbase hook and route to app.
func Register(app core.App) {
	bindSettings(app)
	bindUsers(app)
	bindInvites(app)
	bindBlocks(app)
	bindReports(app)
	bindFollows(app)
	bindRTC(app) // live streams and calls (rtc/ media server)
	bindDM(app)
	bindStripe(app)
	bindShop(app)
	bindTips(app)
	bindNotifications(app)
	bindEvents(app)
	bindCalendar(app)
	bindForum(app)
	bindGroups(app)
	bindSearch(app)
	bindProfiles(app)
	bindRooms(app)
}
