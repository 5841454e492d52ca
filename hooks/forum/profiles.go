package forum

import (
	"net/http"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"

	"salonbase/hooks/salon"
)

// Profiles: GET /api/salon/profiles/{id} — a member's public page: name,
// avatar, bio, rank, role, follower and following counts, their recent
// topics and posts and the best answers they gave (only in categories the
// caller may read), and their non-secret groups. The activity history lets
// members see what someone knows. Never the e-mail or any private field.

const profileRecent = 10

func profileRoutes(g *router.RouterGroup[*core.RequestEvent]) {
	g.GET("/profiles/{id}", profile)
}

type profileTopic struct {
	ID        string `db:"id" json:"id"`
	Title     string `db:"title" json:"title"`
	Category  string `db:"category" json:"category"`
	PostCount int    `db:"post_count" json:"postCount"`
	Solved    bool   `db:"solved" json:"solved"`
	Created   string `db:"created" json:"created"`
}

type profilePost struct {
	ID         string `db:"id" json:"id"`
	Topic      string `db:"topic" json:"topic"`
	TopicTitle string `db:"topic_title" json:"topicTitle"`
	Body       string `db:"body" json:"excerpt"`
	Created    string `db:"created" json:"created"`
}

type profileGroup struct {
	ID    string `db:"id" json:"id"`
	Name  string `db:"name" json:"name"`
	Theme string `db:"theme" json:"theme"`
	Role  string `db:"role" json:"role"`
}

func profile(e *core.RequestEvent) error {
	if !salon.IsMember(e.Auth) && !salon.IsAdmin(e.Auth) {
		return salon.Refuse(http.StatusUnauthorized, "login", "Sign in as a member to see profiles.")
	}
	user, err := e.App.FindRecordById("users", e.Request.PathValue("id"))
	if err != nil || (salon.IsSuspended(user) && !salon.IsAdmin(e.Auth)) {
		return e.NotFoundError("No member with this id.", nil)
	}

	out := map[string]any{
		"id":             user.Id,
		"collectionId":   user.Collection().Id,
		"collectionName": user.Collection().Name,
		"name":           user.GetString("name"),
		"avatar":         user.GetString("avatar"),
		"bio":            user.GetString("bio"),
		"role":           user.GetString("role"),
		"created":        user.GetDateTime("created"),
		"rank":           nil,
	}
	if rank, err := e.App.FindRecordById("ranks", user.GetString("rank")); err == nil {
		out["rank"] = map[string]any{"id": rank.Id, "name": rank.GetString("name"), "level": rank.GetInt("level")}
	}

	db := e.App.DB()
	var followers, following, youFollow int
	if err := db.Select("count(*)").From("follows").Where(dbx.HashExp{"followee": user.Id}).Row(&followers); err != nil {
		return e.InternalServerError("", err)
	}
	if err := db.Select("count(*)").From("follows").Where(dbx.HashExp{"follower": user.Id}).Row(&following); err != nil {
		return e.InternalServerError("", err)
	}
	if err := db.Select("count(*)").From("follows").Where(dbx.HashExp{"follower": e.Auth.Id, "followee": user.Id}).Row(&youFollow); err != nil {
		return e.InternalServerError("", err)
	}
	out["followers"], out["following"], out["youFollow"] = followers, following, youFollow > 0

	cats, err := ReadableCategoryIDs(e.App, e.Auth)
	if err != nil {
		return e.InternalServerError("", err)
	}
	catList := make([]any, len(cats))
	for i, c := range cats {
		catList[i] = c
	}
	readable := dbx.In("t.category", catList...)
	if len(cats) == 0 {
		readable = dbx.NewExp("0")
	}

	topics := []profileTopic{}
	var topicCount int
	q := db.Select("t.id", "t.title", "t.category", "t.post_count", "(t.answer != '') AS solved", "t.created").
		From("forum_topics t").Where(dbx.HashExp{"t.author": user.Id}).AndWhere(readable)
	if err := q.OrderBy("t.created DESC").Limit(profileRecent).All(&topics); err != nil {
		return e.InternalServerError("", err)
	}
	if err := db.Select("count(*)").From("forum_topics t").Where(dbx.HashExp{"t.author": user.Id}).AndWhere(readable).Row(&topicCount); err != nil {
		return e.InternalServerError("", err)
	}

	posts := []profilePost{}
	var postCount int
	if err := db.Select("p.id", "p.topic", "t.title AS topic_title", "p.body", "p.created").
		From("forum_posts p").InnerJoin("forum_topics t", dbx.NewExp("t.id = p.topic")).
		Where(dbx.HashExp{"p.author": user.Id}).AndWhere(readable).
		OrderBy("p.created DESC").Limit(profileRecent).All(&posts); err != nil {
		return e.InternalServerError("", err)
	}
	if err := db.Select("count(*)").From("forum_posts p").InnerJoin("forum_topics t", dbx.NewExp("t.id = p.topic")).
		Where(dbx.HashExp{"p.author": user.Id}).AndWhere(readable).Row(&postCount); err != nil {
		return e.InternalServerError("", err)
	}

	answers := []profilePost{}
	var answerCount int
	if err := db.Select("p.id", "p.topic", "t.title AS topic_title", "p.body", "p.created").
		From("forum_posts p").InnerJoin("forum_topics t", dbx.NewExp("t.answer = p.id")).
		Where(dbx.HashExp{"p.author": user.Id}).AndWhere(readable).
		OrderBy("p.created DESC").Limit(profileRecent).All(&answers); err != nil {
		return e.InternalServerError("", err)
	}
	if err := db.Select("count(*)").From("forum_posts p").InnerJoin("forum_topics t", dbx.NewExp("t.answer = p.id")).
		Where(dbx.HashExp{"p.author": user.Id}).AndWhere(readable).Row(&answerCount); err != nil {
		return e.InternalServerError("", err)
	}
	for _, list := range [][]profilePost{posts, answers} {
		for i := range list {
			list[i].Body = excerpt(list[i].Body, 200)
		}
	}

	groups := []profileGroup{}
	if err := db.Select("g.id", "g.name", "g.theme", "m.role").From("group_members m").
		InnerJoin("groups g", dbx.NewExp("g.id = m.`group`")).
		Where(dbx.HashExp{"m.user": user.Id, "m.status": MemberActive}).
		AndWhere(dbx.NewExp("g.visibility != 'secret'")).
		OrderBy("g.name ASC").All(&groups); err != nil {
		return e.InternalServerError("", err)
	}

	out["topics"] = map[string]any{"total": topicCount, "recent": topics}
	out["posts"] = map[string]any{"total": postCount, "recent": posts}
	out["answers"] = map[string]any{"total": answerCount, "recent": answers}
	out["groups"] = groups
	return e.JSON(http.StatusOK, out)
}
