package pb_migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

// forum_topics.client_id: the idempotency key forum posts already have, so
// a new topic whose answer was lost (a timeout, a dropped connection) can
// be sent again without opening it twice. Unique per author among the
// non-empty ids.
func init() {
	m.Register(func(app core.App) error {
		c, err := app.FindCollectionByNameOrId("forum_topics")
		if err != nil {
			return err
		}
		c.Fields.Add(&core.TextField{Name: "client_id", Max: 64, Pattern: `^[A-Za-z0-9_.:-]*$`,
			Help: "Client-generated id: a retried create with the same id returns the first record."})
		c.AddIndex("idx_forum_topics_client_id", true, "author, client_id", "client_id != ''")
		return app.Save(c)
	}, func(app core.App) error {
		c, err := app.FindCollectionByNameOrId("forum_topics")
		if err != nil {
			return err
		}
		c.RemoveIndex("idx_forum_topics_client_id")
		c.Fields.RemoveByName("client_id")
		return app.Save(c)
	})
}
