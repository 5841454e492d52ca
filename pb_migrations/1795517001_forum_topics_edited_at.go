package pb_migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

// forum_topics.edited_at: when the topic's title or body last changed,
// set by the server (as forum_posts.edited_at), so readers see that a
// topic was edited after they read it.
func init() {
	m.Register(func(app core.App) error {
		c, err := app.FindCollectionByNameOrId("forum_topics")
		if err != nil {
			return err
		}
		c.Fields.Add(&core.DateField{Name: "edited_at",
			Help: "When the title or body last changed; set by the server."})
		return app.Save(c)
	}, func(app core.App) error {
		c, err := app.FindCollectionByNameOrId("forum_topics")
		if err != nil {
			return err
		}
		c.Fields.RemoveByName("edited_at")
		return app.Save(c)
	})
}
