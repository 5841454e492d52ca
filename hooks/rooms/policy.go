package rooms

// Who reads and writes a room. The API rules of rooms and room_messages (in
// pb_migrations) say the same for the stock CRUD routes.
//
// A room that belongs to a group (rooms.group) admits only the group's
// active members and admins: canEnterRoom and RoomReaders check it, and
// every room route, hook and realtime topic goes through them.

import (
	"fmt"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"

	"salonbase/hooks/forum"
	"salonbase/hooks/salon"
)

// CanReadRoom decides whether auth may read room's messages (and subscribe
// to it): an active member whose rank is high enough and who has joined the
// room if it has a password, an admin, or a guest whose live link admits
// them to this room. It returns a *Refusal for a refusal.
func CanReadRoom(app core.App, auth, room *core.Record) error {
	if auth == nil {
		return salon.Deny("login", "Log in to read this room.")
	}
	if auth.IsSuperuser() {
		return nil
	}
	if auth.Collection().Name == "guests" {
		return guestMayEnter(app, auth, room)
	}
	if err := canEnterRoom(app, auth, room); err != nil {
		return err
	}
	if salon.IsAdmin(auth) || !room.GetBool("password_protected") {
		return nil
	}
	joined, err := IsRoomMember(app, room.Id, auth.Id)
	if err != nil {
		return err
	}
	if !joined {
		return salon.Deny("password_required", "This room has a password: join it first.")
	}
	return nil
}

// CanPostRoom decides whether auth may write in room: whoever may read it,
// unless the room is archived.
func CanPostRoom(app core.App, auth, room *core.Record) error {
	if err := CanReadRoom(app, auth, room); err != nil {
		return err
	}
	if room.GetBool("archived") {
		return salon.Deny("archived", "This room is archived: it is read-only.")
	}
	return nil
}

// CanJoinRoom decides whether user may join room (before the password is
// checked): active members whose rank is high enough.
func CanJoinRoom(app core.App, user, room *core.Record) error {
	if user == nil || user.Collection().Name != "users" {
		return salon.Deny("not_member", "Only members can join rooms.")
	}
	return canEnterRoom(app, user, room)
}

// CanModerateRoom reports whether auth moderates room: admins, and active
// members listed in the room's moderators.
func CanModerateRoom(auth, room *core.Record) bool {
	if salon.IsAdmin(auth) {
		return true
	}
	if !salon.IsMember(auth) {
		return false
	}
	for _, id := range room.GetStringSlice("moderators") {
		if id == auth.Id {
			return true
		}
	}
	return false
}

// canEnterRoom checks the room's own gate for a member: not suspended, rank
// high enough, and an active member of the room's group if it has one.
func canEnterRoom(app core.App, user, room *core.Record) error {
	if salon.IsSuspended(user) {
		return salon.Deny("suspended", "Your account is suspended.")
	}
	ok, err := salon.HasRank(app, user, room.GetString("min_rank"))
	if err != nil {
		return fmt.Errorf("room %s rank check: %w", room.Id, err)
	}
	if !ok {
		name := "a higher"
		if r, err := app.FindRecordById("ranks", room.GetString("min_rank")); err == nil {
			name = "the " + r.GetString("name")
		}
		return salon.Deny("rank_too_low", "This room needs %s rank or above.", name)
	}
	// a group's room admits the group's active members (and admins)
	if group := room.GetString("group"); group != "" && !salon.IsAdmin(user) {
		m, err := forum.GroupRole(app, group, user.Id)
		if err != nil {
			return err
		}
		if !m.Active() {
			return salon.Deny("group_members_only", "This is a group's room: join the group to read and write here.")
		}
	}
	return nil
}

// guestMayEnter admits a guest to the one room of their link while the link
// is live, the room admits guests and guest chat is on.
func guestMayEnter(app core.App, guest, room *core.Record) error {
	if guest.GetString("room") != room.Id {
		return salon.Deny("guest_other_room", "Guests can only use the room they were invited to.")
	}
	if !room.GetBool("allow_guests") {
		return salon.Deny("guests_off", "This room no longer admits guests.")
	}
	settings, err := salon.Settings(app)
	if err != nil {
		return err
	}
	if !settings.GetBool("guest_chat") {
		return salon.Deny("guests_off", "Guest chat is turned off.")
	}
	link, err := app.FindRecordById("guest_links", guest.GetString("guest_link"))
	if err != nil {
		return salon.Deny("link_gone", "Your guest link no longer exists.")
	}
	return GuestLinkLive(link, room.Id)
}

// GuestLinkLive reports (as a *Refusal) whether link still admits guests to
// roomID: not revoked and not expired.
func GuestLinkLive(link *core.Record, roomID string) error {
	if link.GetString("room") != roomID {
		return salon.Deny("guest_other_room", "This guest link is for another room.")
	}
	if link.GetBool("revoked") {
		return salon.Deny("link_revoked", "This guest link has been revoked.")
	}
	if !link.GetDateTime("expires_at").After(types.NowDateTime()) {
		return salon.Deny("link_expired", "This guest link has expired.")
	}
	return nil
}

// IsRoomMember reports whether user has joined room.
func IsRoomMember(app core.App, roomID, userID string) (bool, error) {
	var n int
	err := app.DB().Select("count(*)").From("room_members").
		Where(dbx.HashExp{"room": roomID, "user": userID}).
		Row(&n)
	if err != nil {
		return false, fmt.Errorf("room membership: %w", err)
	}
	return n > 0, nil
}

// ReadableRoomIDs returns the rooms whose messages auth may read: the batch
// form of CanReadRoom over all rooms for one member (one query), used by the
// site search. Admins read every room; guests and anyone else get none here
// (a guest reads only their own room, through the room routes).
func ReadableRoomIDs(app core.App, auth *core.Record) ([]string, error) {
	var ids []string
	q := app.DB().Select("r.id").From("rooms r")
	switch {
	case salon.IsAdmin(auth):
	case salon.IsMember(auth):
		level, err := salon.UserRankLevel(app, auth)
		if err != nil {
			return nil, err
		}
		// a room whose minimum rank was deleted stays closed (k.level is NULL)
		q = q.LeftJoin("ranks k", dbx.NewExp("k.id = r.min_rank")).
			Where(dbx.NewExp("(r.min_rank = '' OR k.level <= {:level})", dbx.Params{"level": level})).
			AndWhere(dbx.NewExp(`(r.password_protected = FALSE OR EXISTS
				(SELECT 1 FROM room_members m WHERE m.room = r.id AND m.user = {:user}))`, dbx.Params{"user": auth.Id})).
			AndWhere(dbx.NewExp(`(r."group" = '' OR EXISTS (SELECT 1 FROM group_members gm
				WHERE gm."group" = r."group" AND gm.user = {:user2} AND gm.status = {:active}))`,
				dbx.Params{"user2": auth.Id, "active": forum.MemberActive}))
	default:
		return nil, nil
	}
	if err := q.Column(&ids); err != nil {
		return nil, fmt.Errorf("readable rooms: %w", err)
	}
	return ids, nil
}

// RoomReaders returns those of userIDs who may read room now: the batch
// form of CanReadRoom for members (one query), used to pick whom a message
// notifies.
func RoomReaders(app core.App, room *core.Record, userIDs []string) ([]string, error) {
	if len(userIDs) == 0 {
		return nil, nil
	}
	minLevel := -1 << 31
	if id := room.GetString("min_rank"); id != "" {
		level, err := salon.RankLevel(app, id)
		if err != nil {
			return nil, err
		}
		minLevel = level
	}
	ids := make([]any, len(userIDs))
	for i, id := range userIDs {
		ids[i] = id
	}
	q := app.DB().Select("u.id").From("users u").
		LeftJoin("ranks r", dbx.NewExp("r.id = u.rank")).
		Where(dbx.In("u.id", ids...)).
		AndWhere(dbx.NewExp("u.suspended = FALSE")).
		AndWhere(dbx.NewExp("(u.role = {:admin} OR COALESCE(r.level, 0) >= {:min})", dbx.Params{"admin": salon.RoleAdmin, "min": minLevel}))
	if room.GetBool("password_protected") {
		q.AndWhere(dbx.NewExp("(u.role = {:admin2} OR EXISTS (SELECT 1 FROM room_members m WHERE m.room = {:room} AND m.user = u.id))",
			dbx.Params{"admin2": salon.RoleAdmin, "room": room.Id}))
	}
	if group := room.GetString("group"); group != "" {
		q.AndWhere(dbx.NewExp("(u.role = {:admin3} OR EXISTS (SELECT 1 FROM group_members gm WHERE gm.[[group]] = {:group} AND gm.user = u.id AND gm.status = {:active}))",
			dbx.Params{"admin3": salon.RoleAdmin, "group": group, "active": forum.MemberActive}))
	}
	var out []string
	if err := q.Column(&out); err != nil {
		return nil, fmt.Errorf("room readers: %w", err)
	}
	return out, nil
}
