package pb_migrations_test

import (
	"testing"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
	"golang.org/x/crypto/bcrypt"

	_ "salonbase/pb_migrations"
)

// TestRoomPasswordsSurviveTheFieldChange: the migration that turns
// rooms.password into a text field keeps every stored hash (an upgraded
// salon's members join with the same passwords), and so does its revert.
func TestRoomPasswordsSurviveTheFieldChange(t *testing.T) {
	t.Parallel()
	app, err := tests.NewTestAppWithConfig(core.BaseAppConfig{DataDir: t.TempDir(), EncryptionEnv: "pb_test_env"})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Cleanup()
	runner := core.NewMigrationsRunner(app, core.AppMigrations)
	reverted, err := runner.Down(1)
	for err == nil && len(reverted) == 1 && reverted[0] != "1795491002_room_password_text.go" {
		reverted, err = runner.Down(1)
	}
	if err != nil || len(reverted) != 1 {
		t.Fatalf("revert to before the text field: %v %v", reverted, err)
	}

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

	if _, err := runner.Up(); err != nil {
		t.Fatalf("upgrade: %v", err)
	}
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
