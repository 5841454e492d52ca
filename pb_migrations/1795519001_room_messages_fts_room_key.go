package pb_migrations

import (
	"fmt"
	"strings"

	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

// The room message index keeps a 3-character key of the room instead of the
// room's 15-character id: with the trigram tokenizer the id was 13 tokens
// that FTS5 matched as a phrase for every candidate message, the key is one
// token (one posting list per room). The key is made of private-use
// characters from the id (roomSearchKeySQL; salon.RoomSearchKey computes the
// same in Go). Two rooms may share a key: the search still filters on the
// message's room, so a shared key costs time, never a wrong result.
//
// The index holds no copy of the text (content=”): the key is not a column
// of room_messages, and the search reads the messages themselves. The
// triggers give the old values to FTS5's 'delete' command, as before, and
// the index is filled from the messages.
func init() {
	m.Register(func(app core.App) error {
		return execAll(app, append(dropRoomMessagesFts(),
			`CREATE VIRTUAL TABLE room_messages_fts USING fts5(body, room_key, content='', tokenize='trigram')`,
			`CREATE TRIGGER room_messages_fts_ai AFTER INSERT ON room_messages BEGIN
				INSERT INTO room_messages_fts(rowid, body, room_key) VALUES (new.rowid, new.body, `+roomSearchKeySQL("new.room")+`);
			END`,
			`CREATE TRIGGER room_messages_fts_ad AFTER DELETE ON room_messages BEGIN
				INSERT INTO room_messages_fts(room_messages_fts, rowid, body, room_key) VALUES ('delete', old.rowid, old.body, `+roomSearchKeySQL("old.room")+`);
			END`,
			`CREATE TRIGGER room_messages_fts_au AFTER UPDATE OF body, room ON room_messages BEGIN
				INSERT INTO room_messages_fts(room_messages_fts, rowid, body, room_key) VALUES ('delete', old.rowid, old.body, `+roomSearchKeySQL("old.room")+`);
				INSERT INTO room_messages_fts(rowid, body, room_key) VALUES (new.rowid, new.body, `+roomSearchKeySQL("new.room")+`);
			END`,
			`INSERT INTO room_messages_fts(rowid, body, room_key) SELECT rowid, body, `+roomSearchKeySQL("room")+` FROM room_messages`,
		)...)
	}, func(app core.App) error {
		// back to the index of 1795515001_room_messages_fts_room.go
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
	})
}

// roomSearchKeySQL is the SQL of a room's search key from the room id col:
// three characters U+E000 + (a base-31 number of 5 of the id's characters
// mod 6400). A missing character counts 0.
func roomSearchKeySQL(col string) string {
	parts := make([]string, 3)
	for k := range parts {
		v := "0"
		for i := 1; i <= 5; i++ {
			v = fmt.Sprintf("(%s)*31 + coalesce(unicode(substr(%s, %d, 1)), 0)", v, col, 5*k+i)
		}
		parts[k] = fmt.Sprintf("57344 + (%s) %% 6400", v)
	}
	return "char(" + strings.Join(parts, ", ") + ")"
}
