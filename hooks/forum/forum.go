package forum

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"

	"salonbase/hooks/members"
	"salonbase/hooks/notify"
	"salonbase/hooks/salon"
)

// Forum: categories hold topics, topics hold posts. Read access is in the
// collection rules (mirroring CanReadCategory); here the write decisions,
// with clear 403s: rank too low, banned from the group, locked topic, only
// admins pin, lock and move. post_count and last_post_at are derived by
// database triggers (pb_migrations/1795440002_forum.go).

const maxTags, maxTagLen = 10, 30

// topicAdminFields may be changed only by admins.
var topicAdminFields = []string{"pinned", "locked", "category", "author"}

func bindForum(app core.App) {
	app.OnRecordCreateRequest("forum_topics").BindFunc(createTopic)
	app.OnRecordUpdateRequest("forum_topics").BindFunc(updateTopic)
	app.OnRecordCreateRequest("forum_posts").BindFunc(createPost)
	app.OnRecordUpdateRequest("forum_posts").BindFunc(updatePost)
	salon.HandleJob(app, topicFollowersJob, notifyFollowersOfTopic)
	// topic_count is the database's (triggers)
	app.OnRecordCreateRequest("forum_categories").BindFunc(func(e *core.RecordRequestEvent) error {
		e.Record.Set("topic_count", 0)
		return e.Next()
	})
	app.OnRecordUpdateRequest("forum_categories").BindFunc(func(e *core.RecordRequestEvent) error {
		e.Record.Set("topic_count", e.Record.Original().GetInt("topic_count"))
		return e.Next()
	})

	// a new topic is active from the moment it opens (also for topics made
	// in the dashboard or from Go)
	app.OnRecordCreate("forum_topics").BindFunc(func(e *core.RecordEvent) error {
		if e.Record.GetDateTime("last_post_at").IsZero() {
			e.Record.Set("last_post_at", types.NowDateTime())
		}
		return e.Next()
	})
}

// categoryFor loads a category the caller wants to write in. A group board
// of a group the caller may not see answers 404, as if it did not exist.
func categoryFor(e *core.RequestEvent, auth *core.Record, id string) (*core.Record, error) {
	cat, err := e.App.FindRecordById("forum_categories", id)
	if err != nil {
		return nil, e.NotFoundError("The category was not found.", nil)
	}
	if g := cat.GetString("group"); g != "" {
		group, err := e.App.FindRecordById("groups", g)
		if err != nil {
			return nil, e.NotFoundError("The category was not found.", nil)
		}
		if ok, err := CanSeeGroup(e.App, auth, group); err != nil {
			return nil, e.InternalServerError("", err)
		} else if !ok {
			return nil, e.NotFoundError("The category was not found.", nil)
		}
	}
	return cat, nil
}

func createTopic(e *core.RecordRequestEvent) error {
	auth := e.Auth
	if !e.HasSuperuserAuth() {
		e.Record.Set("author", auth.Id)
	}
	if !salon.IsAdmin(auth) {
		e.Record.Set("pinned", false)
		e.Record.Set("locked", false)
	}
	if e.Record.GetString("author") == "" {
		return e.BadRequestError("A topic needs an author.", nil)
	}
	e.Record.Set("answer", "")
	e.Record.Set("edited_at", "")
	e.Record.Set("post_count", 0)
	e.Record.Set("last_post_at", "")
	if err := normalizeTags(e.Record); err != nil {
		return e.BadRequestError(err.Error(), nil)
	}
	if !e.HasSuperuserAuth() {
		cat, err := categoryFor(e.RequestEvent, auth, e.Record.GetString("category"))
		if err != nil {
			return err
		}
		if err := CanPostInCategory(e.App, auth, cat, true); err != nil {
			return salon.Answer(e.RequestEvent, err)
		}
	}
	// a retry of a topic already saved answers the first one (checked
	// after the category, so it never shows a topic its author can no
	// longer read)
	owner := dbx.HashExp{"author": e.Record.GetString("author")}
	if replay, err := salon.ReplayCreate(e, owner, "category"); replay || err != nil {
		return err
	}
	// the followers' notices are a job committed with the topic
	err := salon.ChainInTx(&e.App, func(tx core.App) error {
		if err := e.Next(); err != nil {
			return err
		}
		return salon.Enqueue(tx, topicFollowersJob, topicJob{Topic: e.Record.Id})
	})
	if err != nil && e.Record.GetString("client_id") != "" {
		// a concurrent retry with the same client_id won the race
		if replay, rerr := salon.ReplayCreate(e, owner, "category"); replay || rerr != nil {
			return rerr
		}
	}
	return err
}

func updateTopic(e *core.RecordRequestEvent) error {
	orig := e.Record.Original()
	// counters are the database's
	e.Record.Set("post_count", orig.GetInt("post_count"))
	e.Record.Set("last_post_at", orig.GetDateTime("last_post_at"))
	if err := normalizeTags(e.Record); err != nil {
		return e.BadRequestError(err.Error(), nil)
	}
	if e.Record.GetString("client_id") != orig.GetString("client_id") {
		return e.BadRequestError("The client_id of a topic cannot change.", nil)
	}
	// edited_at is the server's: set when the words change, kept when only
	// tags, the answer or an admin's pin, lock or move change
	e.Record.Set("edited_at", orig.GetDateTime("edited_at"))
	if e.Record.GetString("title") != orig.GetString("title") || e.Record.GetString("body") != orig.GetString("body") {
		e.Record.Set("edited_at", types.NowDateTime())
	}
	if !salon.IsAdmin(e.Auth) {
		for _, f := range topicAdminFields {
			if e.Record.GetString(f) != orig.GetString(f) {
				return salon.Deny("admins_only", "Only admins pin, lock, move or reassign topics.")
			}
		}
		if orig.GetBool("locked") {
			return salon.Deny("topic_locked", "This topic is locked.")
		}
		if err := mayStillWrite(e, orig.GetString("category")); err != nil {
			return err
		}
	}
	if answer := e.Record.GetString("answer"); answer != "" && answer != orig.GetString("answer") {
		post, err := e.App.FindRecordById("forum_posts", answer)
		if err != nil || post.GetString("topic") != e.Record.Id {
			return e.BadRequestError("The best answer must be a reply in this topic.", nil)
		}
		e.Record.Set("question", true)
	}
	if e.Record.GetString("category") != orig.GetString("category") {
		if _, err := e.App.FindRecordById("forum_categories", e.Record.GetString("category")); err != nil {
			return e.BadRequestError("The target category does not exist.", nil)
		}
	}
	return e.Next()
}

func createPost(e *core.RecordRequestEvent) error {
	auth := e.Auth
	if !e.HasSuperuserAuth() {
		e.Record.Set("author", auth.Id)
	}
	if e.Record.GetString("author") == "" {
		return e.BadRequestError("A post needs an author.", nil)
	}
	// a retry of a post already saved answers the first one
	owner := dbx.HashExp{"author": e.Record.GetString("author")}
	if replay, err := salon.ReplayCreate(e, owner, "topic"); replay || err != nil {
		return err
	}
	e.Record.Set("edited_at", "")
	topic, err := e.App.FindRecordById("forum_topics", e.Record.GetString("topic"))
	if err != nil {
		return e.NotFoundError("The topic was not found.", nil)
	}
	var cat *core.Record
	if !e.HasSuperuserAuth() {
		if cat, err = categoryFor(e.RequestEvent, auth, topic.GetString("category")); err != nil {
			return err
		}
		if err := CanPostInCategory(e.App, auth, cat, false); err != nil {
			return salon.Answer(e.RequestEvent, err)
		}
		if topic.GetBool("locked") && !salon.IsAdmin(auth) {
			return salon.Deny("topic_locked", "This topic is locked: it takes no new posts.")
		}
	} else if cat, err = e.App.FindRecordById("forum_categories", topic.GetString("category")); err != nil {
		return fmt.Errorf("forum: category of topic %s: %w", topic.Id, err)
	}
	var replyTo *core.Record
	if id := e.Record.GetString("reply_to"); id != "" {
		replyTo, err = e.App.FindRecordById("forum_posts", id)
		if err != nil || replyTo.GetString("topic") != topic.Id {
			return e.BadRequestError("The post replied to (reply_to) must be in the same topic.", nil)
		}
	}
	if q := e.Record.GetString("quote"); q != "" && replyTo == nil {
		return e.BadRequestError("A quote needs reply_to: the post it quotes.", nil)
	}
	// who hears of the reply is read, and their notices rendered, before
	// the write transaction, which holds SQLite's one writer: only the
	// writes are made in it
	if err := salon.NewID(e.Record); err != nil {
		return err
	}
	name := displayName(e.App, auth, e.Record.GetString("author"))
	notices, err := replyNotices(e.App, topic, cat, replyTo, e.Record, name)
	if err != nil {
		return err
	}
	// the reply notices commit with the post: a crash right after the
	// answer cannot lose them. The topic is marked updated in the same
	// transaction (a second one made every post wait twice for the writer).
	app := e.App
	done := salon.WithInsert(app, e.Record, func(tx core.App) error {
		if err := notices.send(tx, topic); err != nil {
			return err
		}
		refreshTopic(app, tx, topic)
		return nil
	})
	err = e.Next()
	done()
	if err != nil && e.Record.GetString("client_id") != "" {
		// a concurrent retry with the same client_id won the race
		if replay, rerr := salon.ReplayCreate(e, owner, "topic"); replay || rerr != nil {
			return rerr
		}
	}
	return err
}

func updatePost(e *core.RecordRequestEvent) error {
	orig := e.Record.Original()
	if e.Record.GetString("topic") != orig.GetString("topic") || e.Record.GetString("author") != orig.GetString("author") {
		if !e.HasSuperuserAuth() {
			return e.BadRequestError("A post cannot change its topic or author.", nil)
		}
	}
	if e.Record.GetString("reply_to") != orig.GetString("reply_to") && !e.HasSuperuserAuth() {
		return e.BadRequestError("The post replied to (reply_to) cannot change.", nil)
	}
	if e.Record.GetString("client_id") != orig.GetString("client_id") {
		return e.BadRequestError("The client_id of a post cannot change.", nil)
	}
	if !salon.IsAdmin(e.Auth) {
		topic, err := e.App.FindRecordById("forum_topics", orig.GetString("topic"))
		if err != nil {
			return e.NotFoundError("The topic was not found.", nil)
		}
		if topic.GetBool("locked") {
			return salon.Deny("topic_locked", "This topic is locked.")
		}
		if err := mayStillWrite(e, topic.GetString("category")); err != nil {
			return err
		}
	}
	e.Record.Set("edited_at", types.NowDateTime())
	return e.Next()
}

// mayStillWrite refuses an author who lost the right to write in the
// category since they posted (banned from the group, rank lowered): the
// rules let authors edit their own records, the category decides the rest.
func mayStillWrite(e *core.RecordRequestEvent, categoryID string) error {
	cat, err := categoryFor(e.RequestEvent, e.Auth, categoryID)
	if err != nil {
		return err
	}
	if err := CanPostInCategory(e.App, e.Auth, cat, false); err != nil {
		return salon.Answer(e.RequestEvent, err)
	}
	return nil
}

// refreshTopic marks topic updated in tx (the post's transaction) and,
// once tx commits, tells subscribers of forum_topics the topic's new count
// and activity, which the post's insert trigger derived already. Only
// updated is written, by one UPDATE of that column: a save of the whole
// record (PocketBase writes every column) fired the triggers of columns
// that do not change, which counted the topic's posts again and indexed
// its title and body for search again, all while holding SQLite's one
// writer. The broadcast is PocketBase's own after-update event (realtime,
// and any hook on it) with the topic as read after the commit. app is the
// request's app (not the transaction). A failure is logged: the post is
// saved.
func refreshTopic(app, tx core.App, topic *core.Record) {
	_, err := tx.DB().Update("forum_topics", dbx.Params{"updated": types.NowDateTime().String()},
		dbx.HashExp{"id": topic.Id}).Execute()
	if err != nil {
		tx.Logger().Warn("forum: refresh topic after post", "topic", topic.Id, "error", err)
		return
	}
	info := tx.TxInfo()
	if info == nil {
		return // (createPost always writes in a transaction)
	}
	info.OnComplete(func(txErr error) error {
		if txErr != nil {
			return nil // the post was not saved either
		}
		fresh, err := app.FindRecordById("forum_topics", topic.Id)
		if err != nil {
			app.Logger().Warn("forum: refresh topic after post", "topic", topic.Id, "error", err)
			return nil
		}
		e := &core.ModelEvent{App: app, Context: context.Background(), Type: core.ModelEventTypeUpdate}
		e.Model = fresh
		if err := app.OnModelAfterUpdateSuccess().Trigger(e); err != nil {
			app.Logger().Warn("forum: broadcast topic after post", "topic", topic.Id, "error", err)
		}
		return nil
	})
}

// postNotices are what a new post tells, read and rendered before its
// transaction: those it replies to (the topic's author, the author of the
// post replied to) and the topic's other followers, all of them readers
// of the category.
type postNotices struct {
	replied, followers *notify.Prepared
	followersErr       error // logged, never fails the post
}

// replyNotices prepares the notices of post (not saved yet, its id set)
// by the member author named name in topic, replying to replyTo (or nil).
func replyNotices(app core.App, topic, cat, replyTo, post *core.Record, name string) (postNotices, error) {
	var p postNotices
	author := post.GetString("author")
	var to []string
	if a := topic.GetString("author"); a != author && a != "" {
		to = append(to, a)
	}
	if replyTo != nil && replyTo.GetString("author") != author && replyTo.GetString("author") != "" {
		to = append(to, replyTo.GetString("author"))
	}
	n := notify.Notification{
		Kind:             "reply",
		Title:            fmt.Sprintf("%s replied in %q", name, topic.GetString("title")),
		Body:             excerpt(post.GetString("body"), 200),
		URL:              "/forum/topics/" + topic.Id + "#" + post.Id,
		SourceCollection: "forum_posts",
		SourceID:         post.Id,
		Vars:             map[string]string{"AUTHOR": name, "TOPIC": topic.GetString("title")},
	}
	// the topic's followers hear of it too, once: the author and those
	// told of a reply to them are left out
	skip := map[string]bool{author: true}
	for _, id := range to {
		skip[id] = true
	}
	followers, err := followersOf(app, "topic", topic.Id, skip)
	if err == nil && len(followers) > 0 {
		followers, err = CategoryReaders(app, cat, followers)
	}
	if err == nil && len(followers) > 0 {
		follow := n
		follow.Kind = "forum_follow"
		p.followers, err = notify.Prepare(app, followers, follow)
	}
	p.followersErr = err
	// only those who may still read the category hear of it (the notice
	// and its e-mail carry the post's text)
	if len(to) == 0 {
		return p, nil
	}
	if to, err = CategoryReaders(app, cat, to); err != nil {
		return p, fmt.Errorf("forum: reply readers of topic %s: %w", topic.Id, err)
	}
	if p.replied, err = notify.Prepare(app, to, n); err != nil {
		return p, fmt.Errorf("forum: reply notices of topic %s: %w", topic.Id, err)
	}
	return p, nil
}

// send writes the prepared notices in tx, the post's transaction.
func (p postNotices) send(tx core.App, topic *core.Record) error {
	err := p.followersErr
	if err == nil {
		err = p.followers.Write(tx)
	}
	if err != nil {
		tx.Logger().Warn("forum: notify followers", "topic", topic.Id, "error", err)
	}
	return p.replied.Write(tx)
}

// topicFollowersJob is the job a new topic leaves: its author's
// followers' notices, then the category's followers'.
const topicFollowersJob = "forum.topic_followers"

type topicJob struct {
	Topic string `json:"topic"`
}

// notifyFollowersOfTopic is the job: it tells the author's followers about
// a new topic — only those who may read its category (a group board stays
// private) — and then the category's followers who were not told already.
func notifyFollowersOfTopic(tx core.App, payload json.RawMessage) error {
	var job topicJob
	if err := json.Unmarshal(payload, &job); err != nil {
		return fmt.Errorf("topic followers job: %w", err)
	}
	topic, err := tx.FindRecordById("forum_topics", job.Topic)
	if err != nil {
		return nil // deleted since: nothing to tell
	}
	cat, err := tx.FindRecordById("forum_categories", topic.GetString("category"))
	if err != nil {
		return nil // category deleted (with its topics)
	}
	author := topic.GetString("author")
	followers, err := members.FollowerIDs(tx, author)
	if err != nil {
		return fmt.Errorf("forum: followers of %s: %w", author, err)
	}
	name := displayName(tx, nil, author)
	n := notify.Notification{
		Kind:             "follow_post",
		Title:            fmt.Sprintf("%s opened a topic: %s", name, topic.GetString("title")),
		Body:             excerpt(topic.GetString("body"), 200),
		URL:              "/forum/topics/" + topic.Id,
		SourceCollection: "forum_topics",
		SourceID:         topic.Id,
		Vars:             map[string]string{"AUTHOR": name, "TOPIC": topic.GetString("title")},
	}
	skip := map[string]bool{author: true}
	if len(followers) > 0 {
		to, err := CategoryReaders(tx, cat, followers)
		if err != nil {
			return fmt.Errorf("forum: readers of new topic %s: %w", topic.Id, err)
		}
		if err := notify.Later(tx, to, n); err != nil {
			return err
		}
		for _, id := range followers {
			skip[id] = true
		}
	}
	follow := n
	follow.Kind = "forum_follow"
	notifyFollows(tx, cat, "category", cat.Id, skip, follow)
	return nil
}

// normalizeTags trims, lower-cases and de-duplicates the topic's tags.
func normalizeTags(r *core.Record) error {
	raw := r.GetString("tags")
	if raw == "" || raw == "null" {
		r.Set("tags", []string{})
		return nil
	}
	var in []string
	if err := r.UnmarshalJSONField("tags", &in); err != nil {
		return errors.New("tags must be a list of strings")
	}
	out := make([]string, 0, len(in))
	seen := map[string]bool{}
	for _, t := range in {
		t = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(t), "#")))
		if t == "" || seen[t] {
			continue
		}
		if utf8.RuneCountInString(t) > maxTagLen || strings.ContainsAny(t, `,"`) {
			return fmt.Errorf("a tag has at most %d characters and no commas or quotes: %q", maxTagLen, t)
		}
		seen[t] = true
		out = append(out, t)
	}
	if len(out) > maxTags {
		return fmt.Errorf("a topic has at most %d tags", maxTags)
	}
	r.Set("tags", out)
	return nil
}

// excerpt returns the first n characters of s on one line.
func excerpt(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// displayName is the name of member userID: auth's own when it is them
// (the request's record), else read.
func displayName(app core.App, auth *core.Record, userID string) string {
	if auth != nil && auth.Id == userID && auth.Collection().Name == "users" {
		return auth.GetString("name")
	}
	u, err := app.FindRecordById("users", userID)
	if err != nil {
		return "A member"
	}
	return u.GetString("name")
}
