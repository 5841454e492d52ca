package pb_migrations_test

import (
	"testing"

	"github.com/pocketbase/pocketbase/core"
	"golang.org/x/crypto/bcrypt"

	_ "salonbase/pb_migrations"
)

// TestRoomPasswordsSurviveTheFieldChange: the migration that turns
// rooms.password into a text field keeps every stored hash (an upgraded
// salon's members join with the same passwords), and so does its revert.
func TestRoomPasswordsSurviveTheFieldChange(t *testing.T) {
	t.Parallel()
	app := migratedApp(t)
	revertTo(t, app, "1795491002_room_password_text.go")

	// a room with a password, saved the old way (a password field)
	rooms, _ := app.FindCollectionByNameOrId("rooms")
	if f := rooms.Fields.GetByName("password"); f == nil || f.Type() != core.FieldTypePassword {
		t.Fatalf("before the migration rooms.password is a password field, got %#v", f)
	}
	room := core.NewRecord(rooms)
	room.Set("name", "Secret")
	room.Set("password", "open sesame")
	room.Set("password_protected", true)
	if err := app.Save(room); err != nil {
		t.Fatal(err)
	}
	hash := room.GetString("password:hash")

	upgrade(t, app)
	rooms, _ = app.FindCollectionByNameOrId("rooms")
	if f := rooms.Fields.GetByName("password"); f == nil || f.Type() != core.FieldTypeText || !f.GetHidden() {
		t.Fatalf("after the migration rooms.password is a hidden text field, got %#v", f)
	}
	after, err := app.FindRecordById("rooms", room.Id)
	if err != nil {
		t.Fatal(err)
	}
	if got := after.GetString("password"); got != hash || bcrypt.CompareHashAndPassword([]byte(got), []byte("open sesame")) != nil {
		t.Fatalf("the stored hash was lost: %q", got)
	}
}
