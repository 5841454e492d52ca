package salon

import (
	"database/sql"
	"errors"
	"fmt"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
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
	rank, err := Rank(app, rankID)
	if err != nil {
		return 0, fmt.Errorf("rank %q: %w", rankID, err)
	}
	return rank.Level, nil
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

// MinRank is a rank threshold from salon_settings; Set=false means none.
type MinRank struct {
	Set   bool
	Level int
	Name  string
}

func (m MinRank) Allows(level int) bool { return !m.Set || level >= m.Level }

func SettingsMinRank(app core.App, field string) (MinRank, error) {
	rec, err := Settings(app)
	if err != nil {
		return MinRank{}, err
	}
	id := rec.GetString(field)
	if id == "" {
		return MinRank{}, nil
	}
	rank, err := Rank(app, id)
	if err != nil {
		return MinRank{}, fmt.Errorf("settings %s: %w", field, err)
	}
	return MinRank{Set: true, Level: rank.Level, Name: rank.Name}, nil
}

func RankName(app core.App, rankID string) string {
	r, err := Rank(app, rankID)
	if err != nil {
		return "required"
	}
	return r.Name
}

// MemberIDsWithRank lists the active members whose rank reaches minRankID
// (empty: everyone; admins always), except the member except.
func MemberIDsWithRank(app core.App, minRankID, except string) ([]string, error) {
	q := app.DB().Select("users.id").From("users").
		LeftJoin("ranks", dbx.NewExp("ranks.id = users.rank")).
		Where(dbx.HashExp{"users.suspended": false}).
		AndWhere(dbx.NewExp("users.id != {:except}", dbx.Params{"except": except}))
	if minRankID != "" {
		level, err := RankLevel(app, minRankID)
		if err != nil {
			return nil, err
		}
		q.AndWhere(dbx.NewExp("users.role = 'admin' OR COALESCE(ranks.level, 0) >= {:level}", dbx.Params{"level": level}))
	}
	var ids []string
	if err := q.Column(&ids); err != nil {
		return nil, fmt.Errorf("members with rank: %w", err)
	}
	return ids, nil
}
