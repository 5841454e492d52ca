// Package hooks extends PocketBase into Salonbase. Each feature is a package
// of its own (salon is the kernel they share); this file binds them all, in
// one readable function: each feature's hooks (Register) and its routes
// (Routes, all under /api/salon).
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
		// JSON bodies are small (the largest field, an event's description,
		// is 100 KB); large sizes are for multipart file uploads
		se.Router.Bind(salon.BodyLimits{
			Anonymous: 64 << 10,
			Member:    1 << 20,
			Keys:      1000,
			Paths:     map[string]int64{"/api/salon/stripe/webhook": 1 << 20}, // signed by Stripe
		}.Handler())
		se.Router.Bind(salon.LoadAuth())                  // a busy database is a 503 to retry, never a signed-out member
		se.Router.BindFunc(salon.RefuseWhenStorageFull)   // a full disk is a 503 to retry, not a 400
		se.Router.BindFunc(members.RefuseSuspendedAuth)   // a suspended member's token stops working at once
		se.Router.BindFunc(members.ExplainSuspendedToken) // … and says why when it no longer verifies
		se.Router.BindFunc(members.GuardUserPrivileges)   // members never set rank, role, suspended …
		se.Router.BindFunc(dm.GuardDMWrites)              // clear messages for forbidden DM fields
		se.Router.BindFunc(salon.GuardPrivateFilters)     // name the private field a filter or sort reaches
		se.Router.BindFunc(live.GuardChatWrites)          // the reason a stream's chat refuses a line
		// the reasons behind create rules, which PocketBase answers with a bare 400
		se.Router.BindFunc(salon.GuardCallerKind)      // a visitor or guest where members write, a member where admins do
		se.Router.BindFunc(members.GuardMemberCreates) // invite codes, blocks, follows, reports
		se.Router.BindFunc(live.GuardCallCreates)      // a call without its caller
		se.Router.BindFunc(forum.GuardAuthorFields)    // a topic or post in another's name
		// the reasons behind update and delete rules, which PocketBase answers with a 404
		se.Router.BindFunc(salon.ExplainStockWrites(members.WriteRefusals(), dm.WriteRefusals(),
			forum.WriteRefusals(), events.WriteRefusals(), live.WriteRefusals(), rooms.WriteRefusals(),
			notify.WriteRefusals()))
		return se.Next()
	})

	app.OnRealtimeSubscribeRequest().BindFunc(salon.GuardPrivateSubscriptions)

	// Every route of ours is under /api/salon, in this one group. The only
	// path outside it, the media API /api/rtc/..., is bound by rtc.Register
	// (through live.Register) in the callback that starts the media server.
	// Go's ServeMux picks the most specific pattern, so the order of routes
	// does not matter; the static site's catch-all in main.go is bound last
	// (priority 999) either way.
	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		g := se.Router.Group("/api/salon")
		live.Routes(g)
		dm.Routes(g)
		payments.Routes(g)
		notify.Routes(g)
		events.Routes(g)
		forum.Routes(g)
		search.Routes(g)
		rooms.Routes(g)
		return se.Next()
	})

	// The features' hooks, in the order they have always been bound.
	salon.Register(app)
	members.Register(app)
	live.Register(app) // live streams and calls (rtc/ media server)
	dm.Register(app)
	payments.Register(app)
	notify.Register(app)
	events.Register(app)
	forum.Register(app)
	rooms.Register(app)
}
