package pb_migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

// Full-text search over room messages: an FTS5 external-content index with
// the trigram tokenizer, so Japanese (no spaces between words) is found by
// substring as well as English. Triggers keep it in sync with every write,
// whoever makes it (API, dashboard, Go, raw SQL).
func init() {
	m.Register(func(app core.App) error {
		stmts := []string{
			`CREATE VIRTUAL TABLE room_messages_fts USING fts5(body, content='room_messages', content_rowid='rowid', tokenize='trigram')`,
			`CREATE TRIGGER room_messages_fts_ai AFTER INSERT ON room_messages BEGIN
				INSERT INTO room_messages_fts(rowid, body) VALUES (new.rowid, new.body);
			END`,
			`CREATE TRIGGER room_messages_fts_ad AFTER DELETE ON room_messages BEGIN
				INSERT INTO room_messages_fts(room_messages_fts, rowid, body) VALUES ('delete', old.rowid, old.body);
			END`,
			`CREATE TRIGGER room_messages_fts_au AFTER UPDATE OF body ON room_messages BEGIN
				INSERT INTO room_messages_fts(room_messages_fts, rowid, body) VALUES ('delete', old.rowid, old.body);
				INSERT INTO room_messages_fts(rowid, body) VALUES (new.rowid, new.body);
			END`,
			`INSERT INTO room_messages_fts(room_messages_fts) VALUES ('rebuild')`,
		}
		for _, s := range stmts {
			if _, err := app.DB().NewQuery(s).Execute(); err != nil {
				return err
			}
		}
		return nil
	}, func(app core.App) error {
		for _, s := range []string{
			`DROP TRIGGER IF EXISTS room_messages_fts_ai`,
			`DROP TRIGGER IF EXISTS room_messages_fts_ad`,
			`DROP TRIGGER IF EXISTS room_messages_fts_au`,
			`DROP TABLE IF EXISTS room_messages_fts`,
		} {
			if _, err := app.DB().NewQuery(s).Execute(); err != nil {
				return err
			}
		}
		return nil
	})
}
