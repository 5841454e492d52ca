package hooks

import (
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"
)

// This file is the one place that decides who may do what by rank and role.
// Hooks, routes and the rtc authorizer call these functions; the collection
// API rules in pb_migrations express the same decisions for the stock CRUD
// routes, and the tests check both from the outside.

const (
	RoleMember = "member"
	RoleTutor  = "tutor"
	RoleAdmin  = "admin"
)

// IsMember reports whether auth is a users record that is not suspended.
func IsMember(auth *core.Record) bool {
	return auth != nil && auth.Collection().Name == "users" && !auth.GetBool("suspended")
}

// IsAdmin reports whether auth may do every admin action: a superuser, or an
// active member with role=admin.
func IsAdmin(auth *core.Record) bool {
	if auth == nil {
		return false
	}
	if auth.IsSuperuser() {
		return true
	}
	return IsMember(auth) && auth.GetString("role") == RoleAdmin
}

// IsTutor reports whether user is an active tutor.
func IsTutor(user *core.Record) bool {
	return IsMember(user) && user.GetString("role") == RoleTutor
}

// IsSuspended reports whether user is a suspended member.
func IsSuspended(user *core.Record) bool {
	return user != nil && user.GetBool("suspended")
}

// RankLevel returns the level of the rank with the given id. An empty id (no
// rank) is level 0, the level of the lowest seeded rank.
func RankLevel(app core.App, rankID string) (int, error) {
	if rankID == "" {
		return 0, nil
	}
	rank, err := app.FindRecordById("ranks", rankID)
	if err != nil {
		return 0, fmt.Errorf("rank %q: %w", rankID, err)
	}
	return rank.GetInt("level"), nil
}

// UserRankLevel returns the level of user's rank.
func UserRankLevel(app core.App, user *core.Record) (int, error) {
	return RankLevel(app, user.GetString("rank"))
}

// HasRank reports whether user's rank is at least the rank minRankID. An
// empty minRankID means no minimum. Suspended users never qualify; admins
// always do.
func HasRank(app core.App, user *core.Record, minRankID string) (bool, error) {
	if !IsMember(user) {
		return false, nil
	}
	if IsAdmin(user) || minRankID == "" {
		return true, nil
	}
	have, err := UserRankLevel(app, user)
	if err != nil {
		return false, err
	}
	need, err := RankLevel(app, minRankID)
	if err != nil {
		// a deleted minimum rank must not open the door to everyone
		return false, err
	}
	return have >= need, nil
}

// LowestRankID returns the id of the rank with the lowest level, given to new
// members who join without a rank.
func LowestRankID(app core.App) (string, error) {
	var id string
	err := app.DB().Select("id").From("ranks").OrderBy("level ASC").Limit(1).Row(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return id, err
}

// AdminIDs returns the ids of the active role=admin members: the people who
// receive operator notifications (reports, orders).
func AdminIDs(app core.App) ([]string, error) {
	var ids []string
	err := app.DB().Select("id").From("users").
		Where(dbx.HashExp{"role": RoleAdmin, "suspended": false}).
		Column(&ids)
	return ids, err
}

// IsBlocked reports whether user has blocked other.
func IsBlocked(app core.App, user, other string) (bool, error) {
	var n int
	err := app.DB().Select("count(*)").From("blocks").
		Where(dbx.HashExp{"user": user, "blocked": other}).
		Row(&n)
	return n > 0, err
}

// ---------------------------------------------------------------------------
// DM policy (DESIGN.md "DM policy")
// ---------------------------------------------------------------------------

// Denied is a permission refusal with a reason that is safe to show the
// caller; routes answer it with 403.
type Denied struct {
	Code   string // machine-readable reason, e.g. "rank_too_low"
	Reason string
}

func (d *Denied) Error() string { return d.Reason }

func deny(code, format string, args ...any) *Denied {
	return &Denied{Code: code, Reason: fmt.Sprintf(format, args...)}
}

// DMParty is what the DM policy needs to know about one side of a message.
type DMParty struct {
	Role      string
	RankLevel int
	RankName  string
	Suspended bool
}

// MinRank is a rank threshold from salon_settings; Set=false means none.
type MinRank struct {
	Set   bool
	Level int
	Name  string
}

func (m MinRank) allows(level int) bool { return !m.Set || level >= m.Level }

// DMSettings is the DM part of salon_settings with rank levels resolved.
type DMSettings struct {
	Mode       string // open | admin_only | off
	MemberMin  MinRank
	TutorMin   MinRank
	ReceiveMin MinRank
}

// DecideDM applies the DM policy in order and returns nil when sender may
// message recipient, or the first rule that refuses. blocked is whether the
// recipient has blocked the sender; replying is whether the message answers
// one the recipient sent to the sender.
//
// Rule 8 (a reply is always allowed) is checked right after rule 2, since it
// overrides the mode and rank rules; with dm_mode=off only replies to admins
// pass, so "off" still means no member-to-member messages.
func DecideDM(s DMSettings, sender, recipient DMParty, blocked, replying bool) error {
	senderAdmin := sender.Role == RoleAdmin
	recipientAdmin := recipient.Role == RoleAdmin

	// 1. suspension and blocks (admins ignore blocks)
	if sender.Suspended {
		return deny("suspended", "Your account is suspended.")
	}
	if recipient.Suspended {
		return deny("recipient_suspended", "This member's account is suspended.")
	}
	if blocked && !senderAdmin {
		return deny("blocked", "This member does not accept messages from you.")
	}

	// 2. admins may always write
	if senderAdmin {
		return nil
	}

	// 8. answering the recipient is allowed: if they could write, you can reply
	if replying && (s.Mode != "off" || recipientAdmin) {
		return nil
	}

	if s.Mode == "off" {
		return deny("dm_off", "Direct messages are turned off.")
	}

	// 3. members can always reach the operator
	if recipientAdmin {
		return nil
	}

	// 4.
	if s.Mode == "admin_only" {
		return deny("admin_only", "Direct messages are limited to the operator.")
	}

	// 5. contacting tutors
	if recipient.Role == RoleTutor {
		if sender.Role == RoleTutor || s.TutorMin.allows(sender.RankLevel) {
			return nil
		}
		return deny("rank_too_low", "Contacting tutors needs the %s rank or above (yours: %s).", s.TutorMin.Name, sender.RankName)
	}

	// 6. tutors reach their students
	if sender.Role == RoleTutor {
		return nil
	}

	// 7. member to member
	if !s.MemberMin.allows(sender.RankLevel) {
		return deny("rank_too_low", "Messaging members needs the %s rank or above (yours: %s).", s.MemberMin.Name, sender.RankName)
	}
	if !s.ReceiveMin.allows(recipient.RankLevel) {
		return deny("recipient_rank_too_low", "This member's rank cannot receive direct messages from members.")
	}
	return nil
}

// CanDM decides whether sender may send a direct message to recipient now,
// reading the current salon_settings, ranks and blocks. replying is whether
// the message answers one that recipient sent to sender. It returns a
// *Denied for a refusal and a plain error when the lookup failed.
func CanDM(app core.App, sender, recipient *core.Record, replying bool) error {
	if sender.Id == recipient.Id {
		return deny("self", "You cannot send a direct message to yourself.")
	}
	settings, err := LoadDMSettings(app)
	if err != nil {
		return err
	}
	s, err := dmParty(app, sender)
	if err != nil {
		return err
	}
	r, err := dmParty(app, recipient)
	if err != nil {
		return err
	}
	blocked, err := IsBlocked(app, recipient.Id, sender.Id)
	if err != nil {
		return fmt.Errorf("check blocks: %w", err)
	}
	return DecideDM(settings, s, r, blocked, replying)
}

func dmParty(app core.App, user *core.Record) (DMParty, error) {
	p := DMParty{Role: user.GetString("role"), Suspended: user.GetBool("suspended"), RankName: "none"}
	if id := user.GetString("rank"); id != "" {
		rank, err := app.FindRecordById("ranks", id)
		if err != nil {
			return p, fmt.Errorf("rank of %s: %w", user.Id, err)
		}
		p.RankLevel = rank.GetInt("level")
		p.RankName = rank.GetString("name")
	}
	return p, nil
}

// LoadDMSettings reads the DM settings afresh, so a change in the dashboard
// applies to the next message.
func LoadDMSettings(app core.App) (DMSettings, error) {
	rec, err := Settings(app)
	if err != nil {
		return DMSettings{}, err
	}
	s := DMSettings{Mode: rec.GetString("dm_mode")}
	if s.Mode == "" {
		s.Mode = "open"
	}
	for field, dst := range map[string]*MinRank{
		"dm_member_min_rank":  &s.MemberMin,
		"dm_tutor_min_rank":   &s.TutorMin,
		"dm_receive_min_rank": &s.ReceiveMin,
	} {
		id := rec.GetString(field)
		if id == "" {
			continue
		}
		rank, err := app.FindRecordById("ranks", id)
		if err != nil {
			return s, fmt.Errorf("settings %s: %w", field, err)
		}
		*dst = MinRank{Set: true, Level: rank.GetInt("level"), Name: rank.GetString("name")}
	}
	return s, nil
}

// ---------------------------------------------------------------------------
// Live streams and calls (issue 7; hooks/live.go, hooks/calls.go, rtc/)
// ---------------------------------------------------------------------------

// DecideBroadcast says whether user may go live: admins and tutors always;
// members when salon_settings.live_min_rank is set and their rank reaches
// it; never while suspended.
func DecideBroadcast(user DMParty, min MinRank) error {
	if user.Suspended {
		return deny("suspended", "Your account is suspended.")
	}
	if user.Role == RoleAdmin || user.Role == RoleTutor {
		return nil
	}
	if !min.Set {
		return deny("live_staff_only", "Live streaming is open to admins and tutors only.")
	}
	if user.RankLevel < min.Level {
		return deny("rank_too_low", "Going live needs the %s rank or above (yours: %s).", min.Name, user.RankName)
	}
	return nil
}

// CanBroadcast applies DecideBroadcast with the current settings.
func CanBroadcast(app core.App, user *core.Record) error {
	if user == nil || user.Collection().Name != "users" {
		return deny("members_only", "Only members can go live.")
	}
	p, err := dmParty(app, user)
	if err != nil {
		return err
	}
	min, err := settingsMinRank(app, "live_min_rank")
	if err != nil {
		return err
	}
	return DecideBroadcast(p, min)
}

// DecideWatch says whether viewer may watch a stream with minimum rank min:
// its host and admins always; others by rank; never while suspended.
func DecideWatch(viewer DMParty, isHost bool, min MinRank) error {
	if viewer.Suspended {
		return deny("suspended", "Your account is suspended.")
	}
	if isHost || viewer.Role == RoleAdmin || min.allows(viewer.RankLevel) {
		return nil
	}
	return deny("rank_too_low", "This stream is for %s members and above (yours: %s).", min.Name, viewer.RankName)
}

// CanWatch applies DecideWatch to a live_streams record. The collection's
// list/view rules say the same for the records themselves.
func CanWatch(app core.App, viewer, stream *core.Record) error {
	if viewer == nil || viewer.Collection().Name != "users" {
		return deny("members_only", "Only members can watch live streams.")
	}
	p, err := dmParty(app, viewer)
	if err != nil {
		return err
	}
	var min MinRank
	if id := stream.GetString("min_rank"); id != "" {
		rank, err := app.FindRecordById("ranks", id)
		if err != nil {
			return fmt.Errorf("min_rank of stream %s: %w", stream.Id, err)
		}
		min = MinRank{Set: true, Level: rank.GetInt("level"), Name: rank.GetString("name")}
	}
	return DecideWatch(p, stream.GetString("host") == viewer.Id, min)
}

// CanCall: who may call whom is the DM policy (DESIGN.md), so a refused
// call gets the same reason as a refused DM.
func CanCall(app core.App, caller, callee *core.Record) error {
	return CanDM(app, caller, callee, false)
}

func settingsMinRank(app core.App, field string) (MinRank, error) {
	rec, err := Settings(app)
	if err != nil {
		return MinRank{}, err
	}
	id := rec.GetString(field)
	if id == "" {
		return MinRank{}, nil
	}
	rank, err := app.FindRecordById("ranks", id)
	if err != nil {
		return MinRank{}, fmt.Errorf("settings %s: %w", field, err)
	}
	return MinRank{Set: true, Level: rank.GetInt("level"), Name: rank.GetString("name")}, nil
}

// ---------------------------------------------------------------------------
// DM messages: who reads and who changes what (feat/dm, hooks/dm.go)
// ---------------------------------------------------------------------------

// DMReadAccess says whether auth may read a message between sender and
// recipient (ids), and whether that read must be written to dm_audit: admins
// and superusers read every conversation for moderation, and a read by
// anyone who is not a party is audited. Per-side deletion is left to the
// collection rules.
func DMReadAccess(auth *core.Record, sender, recipient string) (allowed, audited bool) {
	if auth == nil {
		return false, false
	}
	party := IsMember(auth) && (auth.Id == sender || auth.Id == recipient)
	if party {
		return true, false
	}
	if IsAdmin(auth) {
		return true, true
	}
	return false, false
}

// DMEditableFields lists the fields userID may change on a message between
// sender and recipient: the sender only hides it for themselves, the
// recipient marks it read or unread and hides it for themselves. Nobody
// edits the content; admins moderate by deleting.
func DMEditableFields(userID, sender, recipient string) []string {
	switch userID {
	case "":
		return nil
	case recipient:
		return []string{"read_at", "recipient_deleted"}
	case sender:
		return []string{"sender_deleted"}
	}
	return nil
}

// ---------------------------------------------------------------------------
// Shop (DESIGN.md "Shop"): who may buy what, and when
// ---------------------------------------------------------------------------

// SaleState says whether a product can be bought at a moment.
type SaleState string

const (
	SaleAvailable SaleState = "available"
	SaleNotYet    SaleState = "not_yet"
	SaleEnded     SaleState = "ended"
	SaleSoldOut   SaleState = "sold_out"
	SaleInactive  SaleState = "inactive"
)

// ProductSaleState decides, without the buyer, whether product is on sale
// at now: active, inside its sale window, and in stock.
func ProductSaleState(product *core.Record, now time.Time) SaleState {
	switch {
	case !product.GetBool("active"):
		return SaleInactive
	case !product.GetDateTime("sale_starts").IsZero() && now.Before(product.GetDateTime("sale_starts").Time()):
		return SaleNotYet
	case !product.GetDateTime("sale_ends").IsZero() && !now.Before(product.GetDateTime("sale_ends").Time()):
		return SaleEnded
	case !product.GetBool("unlimited") && product.GetInt("stock") <= 0:
		return SaleSoldOut
	}
	return SaleAvailable
}

// CanSeeProduct reports whether user may see (and so try to buy) product:
// admins see everything; members see active products of their rank.
// It mirrors the products list rule.
func CanSeeProduct(app core.App, user, product *core.Record) (bool, error) {
	if IsAdmin(user) {
		return true, nil
	}
	if !IsMember(user) || !product.GetBool("active") {
		return false, nil
	}
	return HasRank(app, user, product.GetString("min_rank"))
}

// ---------------------------------------------------------------------------
// Events (hooks/events.go)
// ---------------------------------------------------------------------------

// CanCreateEvent decides who may organize events: superusers, admins and
// tutors always; other members when salon_settings.event_create_min_rank is
// set and their rank reaches it. Suspended members never.
func CanCreateEvent(app core.App, user *core.Record) error {
	if user != nil && user.IsSuperuser() {
		return nil
	}
	if !IsMember(user) {
		return deny("not_member", "Only members can create events.")
	}
	if IsAdmin(user) || IsTutor(user) {
		return nil
	}
	s, err := Settings(app)
	if err != nil {
		return err
	}
	min := s.GetString("event_create_min_rank")
	if min == "" {
		return deny("organizers_only", "Only admins and tutors can create events in this salon.")
	}
	ok, err := HasRank(app, user, min)
	if err != nil {
		return err
	}
	if !ok {
		return deny("rank_too_low", "Your rank cannot create events yet.")
	}
	return nil
}

// CanManageEvent reports whether auth may edit event, see its attendees and
// export them: admins and the organizer.
func CanManageEvent(auth, event *core.Record) bool {
	if IsAdmin(auth) {
		return true
	}
	return IsMember(auth) && event.GetString("organizer") == auth.Id
}

// ---------------------------------------------------------------------------
// Forum and groups (hooks/forum.go, hooks/groups.go). The collection rules in
// pb_migrations/1795440001_groups.go and 1795440002_forum.go express the
// same read decisions.
// ---------------------------------------------------------------------------

// Group roles and membership statuses (group_members.role / .status).
const (
	GroupOwner     = "owner"
	GroupModerator = "moderator"
	GroupMember    = "member"

	MemberActive  = "active"
	MemberPending = "pending"
	MemberInvited = "invited"
	MemberBanned  = "banned"
)

// Membership is a user's row in a group; the zero value means none.
type Membership struct {
	ID     string
	Role   string
	Status string
}

// Active reports whether the membership lets its user in.
func (m Membership) Active() bool { return m.Status == MemberActive }

// Manages reports whether the member may manage the group's members.
func (m Membership) Manages() bool {
	return m.Active() && (m.Role == GroupOwner || m.Role == GroupModerator)
}

// GroupRole returns userID's membership in groupID (zero when none).
func GroupRole(app core.App, groupID, userID string) (Membership, error) {
	var m Membership
	if groupID == "" || userID == "" {
		return m, nil
	}
	err := app.DB().Select("id", "role", "status").From("group_members").
		Where(dbx.HashExp{"group": groupID, "user": userID}).
		Row(&m.ID, &m.Role, &m.Status)
	if errors.Is(err, sql.ErrNoRows) {
		return Membership{}, nil
	}
	if err != nil {
		return m, fmt.Errorf("membership of %s in %s: %w", userID, groupID, err)
	}
	return m, nil
}

// CanSeeGroup reports whether auth may know group exists: admins; any
// active member for open and approval groups; for a secret group only its
// active and invited members.
func CanSeeGroup(app core.App, auth, group *core.Record) (bool, error) {
	if IsAdmin(auth) {
		return true, nil
	}
	if !IsMember(auth) {
		return false, nil
	}
	if group.GetString("visibility") != "secret" {
		return true, nil
	}
	m, err := GroupRole(app, group.Id, auth.Id)
	if err != nil {
		return false, err
	}
	return m.Status == MemberActive || m.Status == MemberInvited, nil
}

// CanManageGroup reports whether auth may approve, remove, ban and promote
// members of group: admins, and the group's active owner and moderators.
func CanManageGroup(app core.App, auth, group *core.Record) (bool, error) {
	if IsAdmin(auth) {
		return true, nil
	}
	if !IsMember(auth) {
		return false, nil
	}
	m, err := GroupRole(app, group.Id, auth.Id)
	return m.Manages(), err
}

// CanReadCategory reports whether auth may read the forum category cat:
// admins always; otherwise an active member whose rank reaches min_rank and,
// for a group's board, who is an active member of the group.
func CanReadCategory(app core.App, auth, cat *core.Record) (bool, error) {
	err := canReadCategory(app, auth, cat)
	if err == nil {
		return true, nil
	}
	return false, ignoreDenied(err)
}

func ignoreDenied(err error) error {
	var d *Denied
	if errors.As(err, &d) {
		return nil
	}
	return err
}

// canReadCategory returns nil, a *Denied saying why not, or a lookup error.
func canReadCategory(app core.App, auth, cat *core.Record) error {
	if IsAdmin(auth) {
		return nil
	}
	if !IsMember(auth) {
		return deny("not_member", "The forum is for active members.")
	}
	if ok, err := HasRank(app, auth, cat.GetString("min_rank")); err != nil {
		return err
	} else if !ok {
		return deny("rank_too_low", "This category needs the %s rank or above.", rankName(app, cat.GetString("min_rank")))
	}
	if group := cat.GetString("group"); group != "" {
		m, err := GroupRole(app, group, auth.Id)
		if err != nil {
			return err
		}
		switch m.Status {
		case MemberActive:
		case MemberBanned:
			return deny("banned", "You are banned from this group.")
		default:
			return deny("not_group_member", "Only members of this group can use its board.")
		}
	}
	return nil
}

// CanPostInCategory decides whether auth may open a topic (opening=true) or
// reply in cat. It returns nil, a *Denied (answer 403 with its Reason) or a
// lookup error.
func CanPostInCategory(app core.App, auth, cat *core.Record, opening bool) error {
	if err := canReadCategory(app, auth, cat); err != nil {
		return err
	}
	if IsAdmin(auth) {
		return nil
	}
	if opening && cat.GetBool("admin_topics_only") {
		return deny("admin_topics_only", "Only admins open topics in this category.")
	}
	if min := cat.GetString("post_min_rank"); min != "" {
		ok, err := HasRank(app, auth, min)
		if err != nil {
			return err
		}
		if !ok {
			return deny("rank_too_low", "Posting in this category needs the %s rank or above.", rankName(app, min))
		}
	}
	return nil
}

// ReadableCategoryIDs returns the ids of the forum categories auth may
// read (search and profiles filter by it): the same decision as
// CanReadCategory, made for all categories in one query.
func ReadableCategoryIDs(app core.App, auth *core.Record) ([]string, error) {
	var ids []string
	q := app.DB().Select("c.id").From("forum_categories c")
	switch {
	case IsAdmin(auth):
	case IsMember(auth):
		level, err := UserRankLevel(app, auth)
		if err != nil {
			return nil, err
		}
		// a category whose minimum rank was deleted stays closed (r.level is NULL)
		q = q.LeftJoin("ranks r", dbx.NewExp("r.id = c.min_rank")).
			Where(dbx.NewExp("(c.min_rank = '' OR r.level <= {:level})", dbx.Params{"level": level})).
			AndWhere(dbx.NewExp(`(c."group" = '' OR c."group" IN
				(SELECT gm."group" FROM group_members gm WHERE gm.user = {:user} AND gm.status = 'active'))`,
				dbx.Params{"user": auth.Id}))
	default:
		return nil, nil
	}
	if err := q.Column(&ids); err != nil {
		return nil, fmt.Errorf("readable categories: %w", err)
	}
	return ids, nil
}

// CategoryReaders returns those of userIDs who may read cat now: the batch
// form of CanReadCategory (one query), used to pick whom a new topic
// notifies.
func CategoryReaders(app core.App, cat *core.Record, userIDs []string) ([]string, error) {
	if len(userIDs) == 0 {
		return nil, nil
	}
	ids := make([]any, len(userIDs))
	for i, id := range userIDs {
		ids[i] = id
	}
	q := app.DB().Select("u.id").From("users u").
		Where(dbx.In("u.id", ids...)).
		AndWhere(dbx.HashExp{"u.suspended": false})
	open := []dbx.Expression{}
	if min := cat.GetString("min_rank"); min != "" {
		level, err := RankLevel(app, min)
		if err != nil {
			return nil, err // a deleted minimum rank keeps the category closed
		}
		q = q.LeftJoin("ranks r", dbx.NewExp("r.id = u.rank"))
		open = append(open, dbx.NewExp("coalesce(r.level, 0) >= {:min}", dbx.Params{"min": level}))
	}
	if group := cat.GetString("group"); group != "" {
		open = append(open, dbx.NewExp(`EXISTS (SELECT 1 FROM group_members gm
			WHERE gm."group" = {:group} AND gm.user = u.id AND gm.status = 'active')`, dbx.Params{"group": group}))
	}
	if len(open) > 0 {
		q = q.AndWhere(dbx.Or(dbx.HashExp{"u.role": RoleAdmin}, dbx.And(open...)))
	}
	var out []string
	if err := q.Column(&out); err != nil {
		return nil, fmt.Errorf("category readers: %w", err)
	}
	return out, nil
}

func rankName(app core.App, rankID string) string {
	r, err := app.FindRecordById("ranks", rankID)
	if err != nil {
		return "required"
	}
	return r.GetString("name")
}

// ---------------------------------------------------------------------------
// Rooms (DESIGN.md "Rooms"). The API rules of rooms and room_messages in
// pb_migrations/17954300* say the same for the stock CRUD routes.
//
// A room that belongs to a group (rooms.group) admits only the group's
// active members and admins: canEnterRoom and RoomReaders check it, and
// every room route, hook and realtime topic goes through them.
// ---------------------------------------------------------------------------

// CanReadRoom decides whether auth may read room's messages (and subscribe
// to it): an active member whose rank is high enough and who has joined the
// room if it has a password, an admin, or a guest whose live link admits
// them to this room. It returns a *Denied for a refusal.
func CanReadRoom(app core.App, auth, room *core.Record) error {
	if auth == nil {
		return deny("login", "Log in to read this room.")
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
	if IsAdmin(auth) || !room.GetBool("password_protected") {
		return nil
	}
	joined, err := IsRoomMember(app, room.Id, auth.Id)
	if err != nil {
		return err
	}
	if !joined {
		return deny("password_required", "This room has a password: join it first.")
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
		return deny("archived", "This room is archived: it is read-only.")
	}
	return nil
}

// CanJoinRoom decides whether user may join room (before the password is
// checked): active members whose rank is high enough.
func CanJoinRoom(app core.App, user, room *core.Record) error {
	if user == nil || user.Collection().Name != "users" {
		return deny("members_only", "Only members can join rooms.")
	}
	return canEnterRoom(app, user, room)
}

// CanModerateRoom reports whether auth moderates room: admins, and active
// members listed in the room's moderators.
func CanModerateRoom(auth, room *core.Record) bool {
	if IsAdmin(auth) {
		return true
	}
	if !IsMember(auth) {
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
	if IsSuspended(user) {
		return deny("suspended", "Your account is suspended.")
	}
	ok, err := HasRank(app, user, room.GetString("min_rank"))
	if err != nil {
		return fmt.Errorf("room %s rank check: %w", room.Id, err)
	}
	if !ok {
		name := "a higher"
		if r, err := app.FindRecordById("ranks", room.GetString("min_rank")); err == nil {
			name = "the " + r.GetString("name")
		}
		return deny("rank_too_low", "This room needs %s rank or above.", name)
	}
	// a group's room admits the group's active members (and admins)
	if group := room.GetString("group"); group != "" && !IsAdmin(user) {
		m, err := GroupRole(app, group, user.Id)
		if err != nil {
			return err
		}
		if !m.Active() {
			return deny("group_members_only", "This is a group's room: join the group to read and write here.")
		}
	}
	return nil
}

// guestMayEnter admits a guest to the one room of their link while the link
// is live, the room admits guests and guest chat is on.
func guestMayEnter(app core.App, guest, room *core.Record) error {
	if guest.GetString("room") != room.Id {
		return deny("guest_other_room", "Guests can only use the room they were invited to.")
	}
	if !room.GetBool("allow_guests") {
		return deny("guests_off", "This room no longer admits guests.")
	}
	settings, err := Settings(app)
	if err != nil {
		return err
	}
	if !settings.GetBool("guest_chat") {
		return deny("guests_off", "Guest chat is turned off.")
	}
	link, err := app.FindRecordById("guest_links", guest.GetString("guest_link"))
	if err != nil {
		return deny("link_gone", "Your guest link no longer exists.")
	}
	return GuestLinkLive(link, room.Id)
}

// GuestLinkLive reports (as a *Denied) whether link still admits guests to
// roomID: not revoked and not expired.
func GuestLinkLive(link *core.Record, roomID string) error {
	if link.GetString("room") != roomID {
		return deny("guest_other_room", "This guest link is for another room.")
	}
	if link.GetBool("revoked") {
		return deny("link_revoked", "This guest link has been revoked.")
	}
	if !link.GetDateTime("expires_at").After(types.NowDateTime()) {
		return deny("link_expired", "This guest link has expired.")
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
	case IsAdmin(auth):
	case IsMember(auth):
		level, err := UserRankLevel(app, auth)
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
				dbx.Params{"user2": auth.Id, "active": MemberActive}))
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
		level, err := RankLevel(app, id)
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
		AndWhere(dbx.NewExp("(u.role = {:admin} OR COALESCE(r.level, 0) >= {:min})", dbx.Params{"admin": RoleAdmin, "min": minLevel}))
	if room.GetBool("password_protected") {
		q.AndWhere(dbx.NewExp("(u.role = {:admin2} OR EXISTS (SELECT 1 FROM room_members m WHERE m.room = {:room} AND m.user = u.id))",
			dbx.Params{"admin2": RoleAdmin, "room": room.Id}))
	}
	if group := room.GetString("group"); group != "" {
		q.AndWhere(dbx.NewExp("(u.role = {:admin3} OR EXISTS (SELECT 1 FROM group_members gm WHERE gm.[[group]] = {:group} AND gm.user = u.id AND gm.status = {:active}))",
			dbx.Params{"admin3": RoleAdmin, "group": group, "active": MemberActive}))
	}
	var out []string
	if err := q.Column(&out); err != nil {
		return nil, fmt.Errorf("room readers: %w", err)
	}
	return out, nil
}
