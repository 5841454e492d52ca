package pb_migrations

import "strings"

// API rule fragments shared by the rooms migrations. They express the same
// decisions as hooks/rooms/policy.go (CanReadRoom, CanPostRoom; rules_test.go
// holds the two against each other); landed migrations
// use them, so they never change: a new rule gets a new constant.
const (
	roomsActiveMember = "(@request.auth.collectionName = 'users' && @request.auth.suspended = false)"
	roomsAdmin        = "(@request.auth.collectionName = 'users' && @request.auth.role = 'admin' && @request.auth.suspended = false)"

	// a guest's link is live: not revoked, not expired, guest chat on, and
	// the room still admits guests. ROOMID is replaced by the expression of
	// the room's id, ROOM. by the path to its fields ("" or "room.").
	roomsGuestLive = "(@request.auth.collectionName = 'guests' && @request.auth.room = ROOMID" +
		" && @request.auth.guest_link.revoked = false && @request.auth.guest_link.expires_at > @now" +
		" && ROOM.allow_guests = true && @collection.salon_settings.guest_chat ?= true)"
)

// guestLiveRule fills roomsGuestLive for a collection: idExpr is the room's
// id ("id" in rooms, "room" in room_messages), fieldPrefix the path to the
// room's fields ("" or "room.").
func guestLiveRule(idExpr, fieldPrefix string) string {
	return strings.NewReplacer("ROOMID", idExpr, "ROOM.", fieldPrefix).Replace(roomsGuestLive)
}
