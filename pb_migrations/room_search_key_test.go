package pb_migrations_test

import (
	"testing"

	"github.com/pocketbase/dbx"

	"salonbase/hooks/salon"
)

// TestRoomSearchIndexKeyedByRoom: messages indexed with the room's id (the
// index of 1795515001) are found under their room's key after 1795519001
// (the index is filled from the messages; the key the SQL computes is the
// one salon.RoomSearchKey computes), later edits, moves and deletions keep
// it in step, and the revert gives back the index with the room's id.
func TestRoomSearchIndexKeyedByRoom(t *testing.T) {
	t.Parallel()
	app := migratedApp(t)
	revertTo(t, app, "1795519001_room_messages_fts_room_key.go")

	exec := func(sql string, params dbx.Params) {
		t.Helper()
		if _, err := app.DB().NewQuery(sql).Bind(params).Execute(); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	insert := func(id, room, body string) {
		t.Helper()
		exec("INSERT INTO room_messages (id, room, author, author_name, body, created, updated)"+
			" VALUES ({:id}, {:room}, 'author000000001', 'A', {:body}, '2026-11-30 10:00:00.000Z', '2026-11-30 10:00:00.000Z')",
			dbx.Params{"id": id, "room": room, "body": body})
	}
	// ids of every character a room id may hold
	roomA, roomB, roomC := "a0b1c2d3e4f5g6h", "zzzzzzzzzzzzzzz", "0123456789klmno"
	insert("message00000001", roomA, "東京で会議をします")
	insert("message00000002", roomB, "会議をします in the other room")
	insert("message00000003", roomC, "Budget review")

	search := func(match string) []string {
		t.Helper()
		var ids []string
		err := app.DB().NewQuery("SELECT m.id FROM room_messages_fts f JOIN room_messages m ON m.rowid = f.rowid" +
			" WHERE room_messages_fts MATCH {:match} ORDER BY m.id").Bind(dbx.Params{"match": match}).Column(&ids)
		if err != nil {
			t.Fatalf("match %s: %v", match, err)
		}
		return ids
	}
	want := func(match string, ids ...string) {
		t.Helper()
		got := search(match)
		if len(got) != len(ids) {
			t.Errorf("%s: want %v, got %v", match, ids, got)
			return
		}
		for i := range ids {
			if got[i] != ids[i] {
				t.Errorf("%s: want %v, got %v", match, ids, got)
			}
		}
	}
	key := func(room string) string { return `{room_key}: "` + salon.RoomSearchKey(room) + `"` }
	want(`{room}: "`+roomA+`" AND {body}: "会議をします"`, "message00000001") // the old index

	upgrade(t, app)
	want(key(roomA)+` AND {body}: "会議をします"`, "message00000001")
	want(key(roomB)+` AND {body}: "会議をします"`, "message00000002")
	want(key(roomC)+` AND {body}: "budget"`, "message00000003")
	want(key(roomC), "message00000003")
	want(`{body}: "会議をします"`, "message00000001", "message00000002")
	want(`{body}: "a0b1c2"`) // the room is not in the text

	// later writes: an edit with a move to another room, a new message, a deletion
	exec("UPDATE room_messages SET body = 'ミーティングの予定', room = {:room} WHERE id = 'message00000001'", dbx.Params{"room": roomB})
	insert("message00000004", roomA, "新しい会議をします")
	exec("DELETE FROM room_messages WHERE id = 'message00000002'", nil)
	want(key(roomA)+` AND {body}: "会議をします"`, "message00000004")
	want(key(roomB) + ` AND {body}: "会議をします"`)
	want(key(roomB)+` AND {body}: "ミーティング"`, "message00000001")
	want(key(roomB), "message00000001")
	exec("INSERT INTO room_messages_fts(room_messages_fts) VALUES ('integrity-check')", nil)

	revertTo(t, app, "1795519001_room_messages_fts_room_key.go")
	want(`{room}: "`+roomB+`" AND {body}: "ミーティング"`, "message00000001")
	want(`{room}: "`+roomA+`" AND {body}: "会議をします"`, "message00000004")
}

// TestRoomSearchKeys: the keys of different rooms differ (a shared key would
// only cost time), and a key is three characters FTS5 indexes as one token.
func TestRoomSearchKeys(t *testing.T) {
	t.Parallel()
	seen := map[string]string{}
	for _, id := range []string{"a0b1c2d3e4f5g6h", "a0b1c2d3e4f5g6i", "b0b1c2d3e4f5g6h", "zzzzzzzzzzzzzzz", "000000000000000", "abc"} {
		k := salon.RoomSearchKey(id)
		if n := len([]rune(k)); n != 3 {
			t.Errorf("key of %s has %d characters", id, n)
		}
		if other, ok := seen[k]; ok {
			t.Errorf("rooms %s and %s share a key", id, other)
		}
		seen[k] = id
	}
}
