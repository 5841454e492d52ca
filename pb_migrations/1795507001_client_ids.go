package pb_migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

// client_ids: an idempotency key on room messages and forum posts, as
// dm_messages has. A client that retries a create whose answer it never
// got (a timeout, a crash of the server) sends the same client_id and gets
// the first record back instead of a second copy. Unique per author (or
// guest) among the non-empty ids.
func init() {
	m.Register(func(app core.App) error {
		for _, name := range []string{"room_messages", "forum_posts"} {
			c, err := app.FindCollectionByNameOrId(name)
			if err != nil {
				return err
			}
			c.Fields.Add(&core.TextField{Name: "client_id", Max: 64, Pattern: `^[A-Za-z0-9_.:-]*$`,
				Help: "Client-generated id: a retried create with the same id returns the first record."})
			if name == "room_messages" {
				c.AddIndex("idx_room_messages_client_id", true, "author, guest, client_id", "client_id != ''")
			} else {
				c.AddIndex("idx_forum_posts_client_id", true, "author, client_id", "client_id != ''")
			}
			if err := app.Save(c); err != nil {
				return err
			}
		}
		return nil
	}, func(app core.App) error {
		for _, name := range []string{"room_messages", "forum_posts"} {
			c, err := app.FindCollectionByNameOrId(name)
			if err != nil {
				return err
			}
			c.RemoveIndex("idx_" + name + "_client_id")
			c.Fields.RemoveByName("client_id")
			if err := app.Save(c); err != nil {
				return err
			}
		}
		return nil
	})
}
