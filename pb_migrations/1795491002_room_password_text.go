package pb_migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

// room_password_text: rooms.password becomes a hidden text field that holds
// the bcrypt hash. The dashboard shows no input for a password field of a
// base collection, so operators could not set a room password there; a text
// field has one. hooks/rooms hashes whatever plain text is written into it
// before it is saved (an empty value removes the password). Existing hashes
// are kept, so members join with the same passwords as before.
func init() {
	m.Register(func(app core.App) error {
		return swapRoomPasswordField(app, &core.TextField{Name: "password", Hidden: true, Max: 100,
			Help: "Optional. Type a password to set or change it; it is stored as a bcrypt hash at once (what you see after saving). Empty it to remove the password."})
	}, func(app core.App) error {
		return swapRoomPasswordField(app, &core.PasswordField{Name: "password", Hidden: true, Min: 4, Max: 71,
			Help: "Optional. Members join once with it (POST /api/salon/rooms/{id}/join). Stored hashed."})
	})
}

// swapRoomPasswordField replaces rooms.password with field (PocketBase does
// not change a field's type in place), carrying the stored hashes over.
func swapRoomPasswordField(app core.App, field core.Field) error {
	c, err := app.FindCollectionByNameOrId("rooms")
	if err != nil {
		return err
	}
	pos := -1
	for i, f := range c.Fields {
		if f.GetName() == "password" {
			pos = i
			f.SetName("password_previous")
		}
	}
	if pos < 0 {
		return nil
	}
	if err := app.Save(c); err != nil {
		return err
	}
	c.Fields.AddAt(pos, field)
	if err := app.Save(c); err != nil {
		return err
	}
	if _, err := app.DB().NewQuery("UPDATE {{rooms}} SET [[password]] = [[password_previous]]").Execute(); err != nil {
		return err
	}
	c.Fields.RemoveByName("password_previous")
	return app.Save(c)
}
