package rooms

import (
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/subscriptions"
)

// A guest link expires by time alone: nothing is saved when expires_at
// passes, so no hook re-checks the guests' live feeds. Each guest client
// keeps its link's expiry: fanOut stops delivering at that instant, and a
// timer then revokes the grant (the guest leaves the room's presence).
// Updating a link re-arms the timers of its guests.

const (
	guestExpiresKey = "salon.guestExpires" // time.Time
	guestTimerKey   = "salon.guestTimer"   // *time.Timer
)

// armGuestExpiry reads the guest's link afresh and schedules the cut.
func armGuestExpiry(app core.App, client subscriptions.Client, guest *core.Record) {
	stopGuestExpiry(client)
	link, err := app.FindRecordById("guest_links", guest.GetString("guest_link"))
	if err != nil {
		return // CanReadRoom refuses a guest without a link
	}
	expires := link.GetDateTime("expires_at").Time()
	client.Set(guestExpiresKey, expires)
	guestID := guest.Id
	client.Set(guestTimerKey, time.AfterFunc(time.Until(expires), func() {
		recheckRoomGrants(app, func(_, authID string) bool { return authID == guestID }, nil)
	}))
}

func stopGuestExpiry(client subscriptions.Client) {
	if t, ok := client.Get(guestTimerKey).(*time.Timer); ok {
		t.Stop()
	}
}

// guestExpired reports whether client is a guest whose link has expired.
func guestExpired(client subscriptions.Client) bool {
	expires, ok := client.Get(guestExpiresKey).(time.Time)
	return ok && !time.Now().Before(expires)
}

// rearmLinkGuests re-arms the timers of the connected guests of link.
func rearmLinkGuests(app core.App, link *core.Record) {
	for _, c := range app.SubscriptionsBroker().Clients() {
		auth := clientAuth(c)
		if auth == nil || auth.Collection().Name != "guests" || auth.GetString("guest_link") != link.Id || len(roomGrants(c)) == 0 {
			continue
		}
		armGuestExpiry(app, c, auth)
	}
}
