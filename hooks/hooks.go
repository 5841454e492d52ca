// Package hooks extends PocketBase into Salonbase. Each feature is a package
// of its own (salon is the kernel they share); this file binds them all, in
// one readable function.
package hooks

import (
	"github.com/pocketbase/pocketbase/core"

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
)

// Register binds every Salonbase hook and route to app.
func Register(app core.App) {
	// Router-wide middlewares, all here: they see every request.
	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		se.Router.BindFunc(members.RefuseSuspendedAuth) // a suspended member's token stops working at once
		se.Router.BindFunc(members.GuardUserPrivileges) // members never set rank, role, suspended …
		se.Router.BindFunc(dm.GuardDMWrites)            // clear messages for forbidden DM fields
		se.Router.BindFunc(salon.GuardPrivateFilters)   // name the private field a filter or sort reaches
		se.Router.BindFunc(live.GuardChatWrites)        // the reason a stream's chat refuses a line
		return se.Next()
	})

	app.OnRealtimeSubscribeRequest().BindFunc(salon.GuardPrivateSubscriptions)

	// The features, each with its hooks and routes, in the order they
	// have always been bound.
	salon.Register(app)
	members.Register(app)
	live.Register(app) // live streams and calls (rtc/ media server)
	dm.Register(app)
	payments.Register(app)
	notify.Register(app)
	events.Register(app)
	forum.Register(app)
	search.Register(app)
	rooms.Register(app)
}
