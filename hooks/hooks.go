// Package hooks extends PocketBase into Salonbase: one file per feature,
// all bound here, in one readable function.
package hooks

import (
	"salonbase/hooks/dm"
	"salonbase/hooks/events"
	"salonbase/hooks/forum"
	"salonbase/hooks/live"
	"salonbase/hooks/members"
	"salonbase/hooks/notify"
	"salonbase/hooks/payments"
	"salonbase/hooks/rooms"
	"salonbase/hooks/salon"
	"salonbase/hooks/search"

	"github.com/pocketbase/pocketbase/core"
)

// Register binds every Salonbase hook and route to app.
func Register(app core.App) {
	salon.BindSettings(app)
	members.BindUsers(app)
	members.BindInvites(app)
	members.BindBlocks(app)
	members.BindReports(app)
	members.BindFollows(app)
	live.BindRTC(app) // live streams and calls (rtc/ media server)
	dm.BindDM(app)
	payments.BindStripe(app)
	payments.BindShop(app)
	payments.BindTips(app)
	notify.BindNotifications(app)
	events.BindEvents(app)
	events.BindCalendar(app)
	forum.BindForum(app)
	forum.BindGroups(app)
	search.BindSearch(app)
	forum.BindProfiles(app)
	rooms.BindRooms(app)
}
