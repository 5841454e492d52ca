package pb_migrations

import (
	"fmt"

	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

// The room message index gets the room as a second column, so a search in
// one room asks FTS5 for that room's matches only (`{room}: "id" AND
// {body}: ...`) instead of walking the matches of every room and dropping
// the others after a join. The index is rebuilt from the messages.
func init() {
	m.Register(func(app core.App) error {
		return execAll(app, append(dropRoomMessagesFts(),
			`CREATE VIRTUAL TABLE room_messages_fts USING fts5(body, room, content='room_messages', content_rowid='rowid', tokenize='trigram')`,
			`CREATE TRIGGER room_messages_fts_ai AFTER INSERT ON room_messages BEGIN
				INSERT INTO room_messages_fts(rowid, body, room) VALUES (new.rowid, new.body, new.room);
			END`,
			`CREATE TRIGGER room_messages_fts_ad AFTER DELETE ON room_messages BEGIN
				INSERT INTO room_messages_fts(room_messages_fts, rowid, body, room) VALUES ('delete', old.rowid, old.body, old.room);
			END`,
			`CREATE TRIGGER room_messages_fts_au AFTER UPDATE OF body, room ON room_messages BEGIN
				INSERT INTO room_messages_fts(room_messages_fts, rowid, body, room) VALUES ('delete', old.rowid, old.body, old.room);
				INSERT INTO room_messages_fts(rowid, body, room) VALUES (new.rowid, new.body, new.room);
			END`,
			`INSERT INTO room_messages_fts(room_messages_fts) VALUES ('rebuild')`,
		)...)
	}, func(app core.App) error {
		return execAll(app, append(dropRoomMessagesFts(),
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
		)...)
	})
}

func dropRoomMessagesFts() []string {
	return []string{
		`DROP TRIGGER IF EXISTS room_messages_fts_ai`,
		`DROP TRIGGER IF EXISTS room_messages_fts_ad`,
		`DROP TRIGGER IF EXISTS room_messages_fts_au`,
		`DROP TABLE IF EXISTS room_messages_fts`,
	}
}

func execAll(app core.App, stmts ...string) error {
	for _, s := range stmts {
		if _, err := app.DB().NewQuery(s).Execute(); err != nil {
			return fmt.Errorf("%.60s: %w", s, err)
		}
	}
	return nil
}
