package pb_migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
	"github.com/pocketbase/pocketbase/tools/types"
)

// The forum: admin-made categories (optionally limited by rank, or scoped to
// a group as its board) hold topics, topics hold posts.
//
// Read access lives in the list/view rules (so lists, views and realtime
// agree) and mirrors CanReadCategory in hooks/access.go. Writes keep simple
// rules and are decided in hooks/forum.go, which answers a rank too low, a
// locked topic or a ban with a clear 403 (a failing create rule could only
// give a generic 400). post_count and last_post_at are kept by triggers in
// the writing transaction, so concurrent posting never loses a count.
func init() {
	m.Register(func(app core.App) error {
		users, err := app.FindCollectionByNameOrId("users")
		if err != nil {
			return err
		}
		ranks, err := app.FindCollectionByNameOrId("ranks")
		if err != nil {
			return err
		}
		groups, err := app.FindCollectionByNameOrId("groups")
		if err != nil {
			return err
		}

		const active = "@request.auth.collectionName = 'users' && @request.auth.suspended = false"
		const admin = "(@request.auth.collectionName = 'users' && @request.auth.role = 'admin' && @request.auth.suspended = false)"

		// readable(p) is the category read rule with p the path to the
		// category ("" for the category itself, "category." for a topic …)
		readable := func(p string) string {
			return "(" + admin + " || (" + active +
				" && (" + p + "min_rank = '' || @request.auth.rank.level >= " + p + "min_rank.level)" +
				" && (" + p + "group = '' || (" + p + "group.group_members_via_group.user ?= @request.auth.id" +
				" && " + p + "group.group_members_via_group.status ?= 'active'))))"
		}

		cats := core.NewBaseCollection("forum_categories")
		cats.ListRule = types.Pointer(readable(""))
		cats.ViewRule = cats.ListRule
		cats.CreateRule = types.Pointer(admin)
		cats.UpdateRule = types.Pointer(admin)
		cats.DeleteRule = types.Pointer(admin)
		cats.Fields.Add(
			&core.TextField{Name: "name", Required: true, Max: 100, Presentable: true},
			&core.TextField{Name: "description", Max: 2000},
			&core.RelationField{Name: "min_rank", CollectionId: ranks.Id, MaxSelect: 1,
				Help: "Minimum rank to read and post (empty: every member)."},
			&core.RelationField{Name: "post_min_rank", CollectionId: ranks.Id, MaxSelect: 1,
				Help: "Stricter minimum rank to open topics and reply (empty: same as min_rank)."},
			&core.BoolField{Name: "admin_topics_only", Help: "Only admins open topics (announcements); members may reply."},
			&core.NumberField{Name: "sort", OnlyInt: true, Help: "Lower comes first."},
			&core.NumberField{Name: "topic_count", OnlyInt: true,
				Help: "Topics in the category; kept by the database. Clients page topic lists with it (skipTotal)."},
			&core.RelationField{Name: "group", CollectionId: groups.Id, MaxSelect: 1, CascadeDelete: true,
				Help: "Set for a group's board: only the group's active members read and write it."},
		)
		addTimestamps(cats)
		cats.AddIndex("idx_forum_categories_sort", false, "sort, name", "")
		cats.AddIndex("idx_forum_categories_group", false, "`group`", "")
		if err := app.Save(cats); err != nil {
			return err
		}

		topics := core.NewBaseCollection("forum_topics")
		topics.ListRule = types.Pointer(readable("category."))
		topics.ViewRule = topics.ListRule
		topics.CreateRule = types.Pointer(active +
			" && (@request.body.author:isset = false || @request.body.author = @request.auth.id)")
		topics.UpdateRule = types.Pointer(active + " && (" + admin + " || author = @request.auth.id)")
		topics.DeleteRule = types.Pointer(active + " && (" + admin + " || (author = @request.auth.id && post_count = 0))")
		topics.Fields.Add(
			&core.RelationField{Name: "category", CollectionId: cats.Id, MaxSelect: 1, Required: true, CascadeDelete: true},
			// not required, no cascade: deleting an account keeps the discussion
			// (its author becomes empty) and the replies of others in it
			&core.RelationField{Name: "author", CollectionId: users.Id, MaxSelect: 1},
			&core.TextField{Name: "title", Required: true, Max: 200, Presentable: true},
			&core.TextField{Name: "body", Required: true, Max: 50_000, Help: "Markdown."},
			&core.JSONField{Name: "tags", MaxSize: 2000, Help: "Up to 10 lower-case tags."},
			&core.BoolField{Name: "question", Help: "A question: the author (or an admin) can mark the best answer."},
			&core.BoolField{Name: "pinned"},
			&core.BoolField{Name: "locked", Help: "A locked topic refuses new posts."},
			&core.DateField{Name: "last_post_at"},
			&core.NumberField{Name: "post_count", OnlyInt: true, Help: "Replies; kept by the database."},
		)
		addTimestamps(topics)
		// the topic list: pinned first, then by last activity
		topics.AddIndex("idx_forum_topics_list", false, "category, pinned, last_post_at", "")
		topics.AddIndex("idx_forum_topics_author", false, "author, created", "")
		if err := app.Save(topics); err != nil {
			return err
		}

		posts := core.NewBaseCollection("forum_posts")
		posts.ListRule = types.Pointer(readable("topic.category."))
		posts.ViewRule = posts.ListRule
		posts.CreateRule = types.Pointer(active +
			" && (@request.body.author:isset = false || @request.body.author = @request.auth.id)")
		posts.UpdateRule = types.Pointer(active + " && (" + admin + " || author = @request.auth.id)")
		posts.DeleteRule = types.Pointer(active + " && (" + admin + " || author = @request.auth.id)")
		posts.Fields.Add(
			&core.RelationField{Name: "topic", CollectionId: topics.Id, MaxSelect: 1, Required: true, CascadeDelete: true},
			// not required, no cascade: deleting an account keeps the discussion
			// (its author becomes empty) and the replies of others in it
			&core.RelationField{Name: "author", CollectionId: users.Id, MaxSelect: 1},
			&core.TextField{Name: "body", Required: true, Max: 20_000, Help: "Markdown."},
			&core.TextField{Name: "quote", Max: 1000, Help: "The quoted excerpt of reply_to."},
			&core.FileField{Name: "attachments", MaxSelect: 5, MaxSize: 20 << 20, Protected: true},
			&core.DateField{Name: "edited_at"},
		)
		addTimestamps(posts)
		posts.AddIndex("idx_forum_posts_topic", false, "topic, created", "")
		posts.AddIndex("idx_forum_posts_author", false, "author, created", "")
		if err := app.Save(posts); err != nil {
			return err
		}
		posts.Fields.Add(&core.RelationField{Name: "reply_to", CollectionId: posts.Id, MaxSelect: 1})
		if err := app.Save(posts); err != nil {
			return err
		}
		topics.Fields.Add(&core.RelationField{Name: "answer", CollectionId: posts.Id, MaxSelect: 1,
			Help: "The best answer, set by the topic author or an admin."})
		topics.AddIndex("idx_forum_topics_answer", false, "answer", "answer != ''")
		if err := app.Save(topics); err != nil {
			return err
		}

		// the counters are derived from the posts themselves, so neither
		// concurrent posting nor a save of a stale topic record (PocketBase
		// writes every column) can leave them wrong
		const derive = `post_count = (SELECT count(*) FROM forum_posts WHERE topic = forum_topics.id),
			last_post_at = coalesce((SELECT max(created) FROM forum_posts WHERE topic = forum_topics.id), forum_topics.created)`
		for _, sql := range []string{
			`CREATE TRIGGER forum_posts_counters_ins AFTER INSERT ON forum_posts BEGIN
			   UPDATE forum_topics SET ` + derive + ` WHERE id = new.topic;
			 END`,
			`CREATE TRIGGER forum_posts_counters_del AFTER DELETE ON forum_posts BEGIN
			   UPDATE forum_topics SET ` + derive + `,
			     answer = CASE WHEN answer = old.id THEN '' ELSE answer END
			   WHERE id = old.topic;
			 END`,
			`CREATE TRIGGER forum_posts_counters_move AFTER UPDATE OF topic ON forum_posts WHEN old.topic != new.topic BEGIN
			   UPDATE forum_topics SET ` + derive + ` WHERE id IN (old.topic, new.topic);
			 END`,
			// topic_count: +1/-1 in the writing transaction; a save of a stale
			// category record (the dashboard writes every column) re-derives it
			`CREATE TRIGGER forum_topics_catcount_ins AFTER INSERT ON forum_topics BEGIN
			   UPDATE forum_categories SET topic_count = topic_count + 1 WHERE id = new.category;
			 END`,
			`CREATE TRIGGER forum_topics_catcount_del AFTER DELETE ON forum_topics BEGIN
			   UPDATE forum_categories SET topic_count = max(topic_count - 1, 0) WHERE id = old.category;
			 END`,
			`CREATE TRIGGER forum_topics_catcount_move AFTER UPDATE OF category ON forum_topics WHEN old.category != new.category BEGIN
			   UPDATE forum_categories SET topic_count = max(topic_count - 1, 0) WHERE id = old.category;
			   UPDATE forum_categories SET topic_count = topic_count + 1 WHERE id = new.category;
			 END`,
			// (PocketBase's save sets every column, name included; the
			// triggers above set topic_count only, so they do not fire this)
			`CREATE TRIGGER forum_categories_count_fix AFTER UPDATE OF name ON forum_categories BEGIN
			   UPDATE forum_categories SET topic_count = (SELECT count(*) FROM forum_topics WHERE category = new.id) WHERE id = new.id;
			 END`,
			// (recursive triggers are off: this UPDATE does not fire itself)
			`CREATE TRIGGER forum_topics_counters AFTER INSERT ON forum_topics BEGIN
			   UPDATE forum_topics SET ` + derive + ` WHERE id = new.id;
			 END`,
			// a save of the topic record sets every column, title included;
			// the counter triggers above do not set title, so do not fire this
			`CREATE TRIGGER forum_topics_counters_upd AFTER UPDATE OF title ON forum_topics BEGIN
			   UPDATE forum_topics SET ` + derive + ` WHERE id = new.id;
			 END`,
		} {
			if _, err := app.DB().NewQuery(sql).Execute(); err != nil {
				return err
			}
		}
		return nil
	}, func(app core.App) error {
		for _, name := range []string{"forum_posts", "forum_topics", "forum_categories"} {
			c, err := app.FindCollectionByNameOrId(name)
			if err != nil {
				return err
			}
			// the self-relations keep the collections referenced; drop them first
			if name == "forum_posts" {
				c.Fields.RemoveByName("reply_to")
				if err := app.Save(c); err != nil {
					return err
				}
				t, err := app.FindCollectionByNameOrId("forum_topics")
				if err != nil {
					return err
				}
				t.Fields.RemoveByName("answer")
				if err := app.Save(t); err != nil {
					return err
				}
			}
			if err := app.Delete(c); err != nil {
				return err
			}
		}
		return nil
	})
}
