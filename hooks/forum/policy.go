package forum

// Who reads and writes the forum and groups. The API rules of groups,
// group_members, forum_categories, forum_topics and forum_posts (in
// pb_migrations) express the same read decisions; policy tests hold the two
// together.

import (
	"database/sql"
	"errors"
	"fmt"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"

	"salonbase/hooks/salon"
)

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
	if salon.IsAdmin(auth) {
		return true, nil
	}
	if !salon.IsMember(auth) {
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
	if salon.IsAdmin(auth) {
		return true, nil
	}
	if !salon.IsMember(auth) {
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
	return false, salon.IgnoreRefusal(err)
}

// canReadCategory returns nil, a *Refusal saying why not, or a lookup error.
func canReadCategory(app core.App, auth, cat *core.Record) error {
	if salon.IsAdmin(auth) {
		return nil
	}
	if !salon.IsMember(auth) {
		return salon.Deny("not_member", "The forum is for active members.")
	}
	if ok, err := salon.HasRank(app, auth, cat.GetString("min_rank")); err != nil {
		return err
	} else if !ok {
		return salon.Deny("rank_too_low", "This category needs the %s rank or above.", salon.RankName(app, cat.GetString("min_rank")))
	}
	if group := cat.GetString("group"); group != "" {
		m, err := GroupRole(app, group, auth.Id)
		if err != nil {
			return err
		}
		switch m.Status {
		case MemberActive:
		case MemberBanned:
			return salon.Deny("banned", "You are banned from this group.")
		default:
			return salon.Deny("not_group_member", "Only members of this group can use its board.")
		}
	}
	return nil
}

// CanPostInCategory decides whether auth may open a topic (opening=true) or
// reply in cat. It returns nil, a *Refusal (answer 403 with its Reason) or a
// lookup error.
func CanPostInCategory(app core.App, auth, cat *core.Record, opening bool) error {
	if err := canReadCategory(app, auth, cat); err != nil {
		return err
	}
	if salon.IsAdmin(auth) {
		return nil
	}
	if opening && cat.GetBool("admin_topics_only") {
		return salon.Deny("admin_topics_only", "Only admins open topics in this category.")
	}
	if min := cat.GetString("post_min_rank"); min != "" {
		ok, err := salon.HasRank(app, auth, min)
		if err != nil {
			return err
		}
		if !ok {
			return salon.Deny("rank_too_low", "Posting in this category needs the %s rank or above.", salon.RankName(app, min))
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
	case salon.IsAdmin(auth):
	case salon.IsMember(auth):
		level, err := salon.UserRankLevel(app, auth)
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
		level, err := salon.RankLevel(app, min)
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
		q = q.AndWhere(dbx.Or(dbx.HashExp{"u.role": salon.RoleAdmin}, dbx.And(open...)))
	}
	var out []string
	if err := q.Column(&out); err != nil {
		return nil, fmt.Errorf("category readers: %w", err)
	}
	return out, nil
}

// Active reports whether the membership lets its user in.
func (m Membership) Active() bool { return m.Status == MemberActive }

// Manages reports whether the member may manage the group's members.
func (m Membership) Manages() bool {
	return m.Active() && (m.Role == GroupOwner || m.Role == GroupModerator)
}
