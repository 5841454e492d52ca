package pb_migrations_test

import (
	"testing"

	"github.com/pocketbase/dbx"

	"salonbase/hooks/salon"
	_ "salonbase/pb_migrations"
)

// TestRoomSearchIndexRebuiltWithTheRoom: messages written before the index
// got its room column are found, per room, after the migrations (the index
// is rebuilt from the messages, today with the room's key), later writes
// keep it in step, and the revert leaves a working body-only index.
func TestRoomSearchIndexRebuiltWithTheRoom(t *testing.T) {
	t.Parallel()
	app := migratedApp(t)
	revertTo(t, app, "1795515001_room_messages_fts_room.go")

	insert := func(id, room, body string) {
		t.Helper()
		_, err := app.DB().NewQuery("INSERT INTO room_messages (id, room, author, author_name, body, created, updated)" +
			" VALUES ({:id}, {:room}, 'author000000001', 'A', {:body}, '2026-11-30 10:00:00.000Z', '2026-11-30 10:00:00.000Z')").
			Bind(dbx.Params{"id": id, "room": room, "body": body}).Execute()
		if err != nil {
			t.Fatal(err)
		}
	}
	insert("message00000001", "roomaaaaaaaaaaa", "東京で会議をします")
	insert("message00000002", "roombbbbbbbbbbb", "会議をします in the other room")

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
	upgrade(t, app)
	want := func(match string, ids ...string) {
		t.Helper()
		if got := search(match); len(got) != len(ids) || (len(ids) > 0 && got[0] != ids[0]) {
			t.Errorf("%s: want %v, got %v", match, ids, got)
		}
	}
	room := func(id string) string { return `{room_key}: "` + salon.RoomSearchKey(id) + `"` }
	want(room("roomaaaaaaaaaaa")+` AND {body}: "会議をします"`, "message00000001")
	want(room("roombbbbbbbbbbb")+` AND {body}: "会議をします"`, "message00000002")
	want(`{body}: "roomaaa"`)

	// later writes: an edit, a move to another room, a deletion
	if _, err := app.DB().NewQuery("UPDATE room_messages SET body = 'ミーティングの予定', room = 'roombbbbbbbbbbb' WHERE id = 'message00000001'").Execute(); err != nil {
		t.Fatal(err)
	}
	want(room("roomaaaaaaaaaaa") + ` AND {body}: "会議をします"`)
	want(room("roombbbbbbbbbbb")+` AND {body}: "ミーティング"`, "message00000001")
	if _, err := app.DB().NewQuery("DELETE FROM room_messages WHERE id = 'message00000002'").Execute(); err != nil {
		t.Fatal(err)
	}
	want(`{body}: "会議をします"`)
	if _, err := app.DB().NewQuery("INSERT INTO room_messages_fts(room_messages_fts) VALUES ('integrity-check')").Execute(); err != nil {
		t.Errorf("index out of step with the messages: %v", err)
	}

	revertTo(t, app, "1795515001_room_messages_fts_room.go")
	want(`"ミーティング"`, "message00000001")
}
