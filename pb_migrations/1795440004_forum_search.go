package pb_migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

// Full-text search over forum topics and posts (hooks/search.go).
//
// forum_search_docs holds one row per topic or post with a stable integer
// id; forum_search is an FTS5 index over it with the trigram tokenizer, so
// Japanese (no spaces between words) matches any substring of 3+
// characters. Triggers keep both in step with every write, whatever makes
// it (API, dashboard, raw SQL), in the writing transaction. The docs table
// is not a collection: nothing reads it except the search route, which
// applies the caller's read permissions.
func init() {
	m.Register(func(app core.App) error {
		for _, sql := range []string{
			`CREATE TABLE forum_search_docs (
			   docid  INTEGER PRIMARY KEY,
			   ref    TEXT NOT NULL UNIQUE,
			   kind   TEXT NOT NULL,
			   topic  TEXT NOT NULL,
			   category TEXT NOT NULL DEFAULT '',
			   author TEXT NOT NULL,
			   title  TEXT NOT NULL DEFAULT '',
			   body   TEXT NOT NULL DEFAULT '',
			   created TEXT NOT NULL DEFAULT ''
			 )`,
			`CREATE INDEX idx_forum_search_docs_topic ON forum_search_docs (topic)`,
			`CREATE VIRTUAL TABLE forum_search USING fts5(
			   title, body, content='forum_search_docs', content_rowid='docid', tokenize='trigram'
			 )`,
			`CREATE TRIGGER forum_search_docs_ai AFTER INSERT ON forum_search_docs BEGIN
			   INSERT INTO forum_search(rowid, title, body) VALUES (new.docid, new.title, new.body);
			 END`,
			`CREATE TRIGGER forum_search_docs_ad AFTER DELETE ON forum_search_docs BEGIN
			   INSERT INTO forum_search(forum_search, rowid, title, body) VALUES ('delete', old.docid, old.title, old.body);
			 END`,
			`CREATE TRIGGER forum_search_docs_au AFTER UPDATE ON forum_search_docs BEGIN
			   INSERT INTO forum_search(forum_search, rowid, title, body) VALUES ('delete', old.docid, old.title, old.body);
			   INSERT INTO forum_search(rowid, title, body) VALUES (new.docid, new.title, new.body);
			 END`,

			`CREATE TRIGGER forum_topics_search_ai AFTER INSERT ON forum_topics BEGIN
			   INSERT INTO forum_search_docs (ref, kind, topic, category, author, title, body, created)
			   VALUES (new.id, 'topic', new.id, new.category, new.author, new.title, new.body, new.created);
			 END`,
			// a moved topic takes its posts along (docs are indexed by topic)
			`CREATE TRIGGER forum_topics_search_move AFTER UPDATE OF category ON forum_topics
			 WHEN old.category IS NOT new.category BEGIN
			   UPDATE forum_search_docs SET category = new.category WHERE topic = new.id;
			 END`,
			`CREATE TRIGGER forum_topics_search_au AFTER UPDATE OF title, body, author ON forum_topics
			 WHEN old.title IS NOT new.title OR old.body IS NOT new.body OR old.author IS NOT new.author BEGIN
			   UPDATE forum_search_docs SET title = new.title, body = new.body, author = new.author WHERE ref = new.id;
			 END`,
			`CREATE TRIGGER forum_topics_search_ad AFTER DELETE ON forum_topics BEGIN
			   DELETE FROM forum_search_docs WHERE topic = old.id;
			 END`,
			`CREATE TRIGGER forum_posts_search_ai AFTER INSERT ON forum_posts BEGIN
			   INSERT INTO forum_search_docs (ref, kind, topic, category, author, body, created)
			   VALUES (new.id, 'post', new.topic, (SELECT category FROM forum_topics WHERE id = new.topic),
			           new.author, new.body, new.created);
			 END`,
			`CREATE TRIGGER forum_posts_search_au AFTER UPDATE OF body, topic, author ON forum_posts
			 WHEN old.body IS NOT new.body OR old.topic IS NOT new.topic OR old.author IS NOT new.author BEGIN
			   UPDATE forum_search_docs SET body = new.body, topic = new.topic, author = new.author,
			     category = (SELECT category FROM forum_topics WHERE id = new.topic) WHERE ref = new.id;
			 END`,
			`CREATE TRIGGER forum_posts_search_ad AFTER DELETE ON forum_posts BEGIN
			   DELETE FROM forum_search_docs WHERE ref = old.id;
			 END`,
		} {
			if _, err := app.DB().NewQuery(sql).Execute(); err != nil {
				return err
			}
		}
		return nil
	}, func(app core.App) error {
		for _, sql := range []string{
			`DROP TRIGGER IF EXISTS forum_posts_search_ad`,
			`DROP TRIGGER IF EXISTS forum_posts_search_au`,
			`DROP TRIGGER IF EXISTS forum_posts_search_ai`,
			`DROP TRIGGER IF EXISTS forum_topics_search_ad`,
			`DROP TRIGGER IF EXISTS forum_topics_search_move`,
			`DROP TRIGGER IF EXISTS forum_topics_search_au`,
			`DROP TRIGGER IF EXISTS forum_topics_search_ai`,
			`DROP TABLE IF EXISTS forum_search`,
			`DROP TABLE IF EXISTS forum_search_docs`,
		} {
			if _, err := app.DB().NewQuery(sql).Execute(); err != nil {
				return err
			}
		}
		return nil
	})
}
