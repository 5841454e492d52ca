package forum

import (
	"fmt"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"

	"salonbase/hooks/notify"
)

// Forum follows: a member follows a topic (each reply tells them) or a
// category (each new topic tells them), kind "forum_follow". Following
// needs read access; the notices go only to followers who may still read
// the category when something is posted (rank lowered, banned from the
// group: nothing more).

func bindFollows(app core.App) {
	app.OnRecordCreateRequest("forum_follows").BindFunc(createFollow)
}

func createFollow(e *core.RecordRequestEvent) error {
	if !e.HasSuperuserAuth() {
		e.Record.Set("user", e.Auth.Id)
	}
	topicID, catID := e.Record.GetString("topic"), e.Record.GetString("category")
	if (topicID == "") == (catID == "") {
		return e.BadRequestError("Follow either a topic or a category: set one of them.", nil)
	}
	if e.HasSuperuserAuth() {
		return e.Next()
	}
	if topicID != "" {
		topic, err := e.App.FindRecordById("forum_topics", topicID)
		if err != nil {
			return e.NotFoundError("The topic was not found.", nil)
		}
		catID = topic.GetString("category")
	}
	// a category the member may not read is invisible to them: 404 as in lists
	cat, err := categoryFor(e.RequestEvent, e.Auth, catID)
	if err != nil {
		return err
	}
	if ok, err := CanReadCategory(e.App, e.Auth, cat); err != nil {
		return e.InternalServerError("", err)
	} else if !ok {
		return e.NotFoundError("The topic or category was not found.", nil)
	}
	return e.Next()
}

// followersOf returns the members following the topic or category (field
// "topic" or "category" = id), except those in skip.
func followersOf(app core.App, field, id string, skip map[string]bool) ([]string, error) {
	var ids []string
	if err := app.DB().Select("user").From("forum_follows").Where(dbx.HashExp{field: id}).Column(&ids); err != nil {
		return nil, fmt.Errorf("forum followers: %w", err)
	}
	out := ids[:0]
	for _, u := range ids {
		if !skip[u] {
			out = append(out, u)
		}
	}
	return out, nil
}

// notifyFollows tells the followers of field=id who may read cat, except
// those in skip. A failure is logged: what was posted is saved.
func notifyFollows(app core.App, cat *core.Record, field, id string, skip map[string]bool, n notify.Notification) {
	to, err := followersOf(app, field, id, skip)
	if err == nil && len(to) > 0 {
		to, err = CategoryReaders(app, cat, to)
		if err == nil && len(to) > 0 {
			err = notify.Notify(app, to, n)
		}
	}
	if err != nil {
		app.Logger().Warn("forum: notify followers", field, id, "error", err)
	}
}
