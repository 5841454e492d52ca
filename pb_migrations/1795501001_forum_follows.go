package pb_migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
	"github.com/pocketbase/pocketbase/tools/types"
)

// forum_follows: a member follows a topic (told of each reply) or a
// category (told of each new topic). Each row is its member's own; the
// forum hooks check that the member may read what they follow, and tell
// only those who still may when something is posted.
func init() {
	m.Register(func(app core.App) error {
		users, err := app.FindCollectionByNameOrId("users")
		if err != nil {
			return err
		}
		topics, err := app.FindCollectionByNameOrId("forum_topics")
		if err != nil {
			return err
		}
		cats, err := app.FindCollectionByNameOrId("forum_categories")
		if err != nil {
			return err
		}

		const active = "@request.auth.collectionName = 'users' && @request.auth.suspended = false"

		c := core.NewBaseCollection("forum_follows")
		c.ListRule = types.Pointer(active + " && user = @request.auth.id")
		c.ViewRule = c.ListRule
		c.CreateRule = types.Pointer(active + " && (@request.body.user:isset = false || @request.body.user = @request.auth.id)")
		c.DeleteRule = types.Pointer(active + " && user = @request.auth.id")
		c.Fields.Add(
			&core.RelationField{Name: "user", CollectionId: users.Id, MaxSelect: 1, Required: true, CascadeDelete: true},
			&core.RelationField{Name: "topic", CollectionId: topics.Id, MaxSelect: 1, CascadeDelete: true,
				Help: "A followed topic: its replies notify the member (set this or category)."},
			&core.RelationField{Name: "category", CollectionId: cats.Id, MaxSelect: 1, CascadeDelete: true,
				Help: "A followed category: its new topics notify the member (set this or topic)."},
		)
		addTimestamps(c)
		c.AddIndex("idx_forum_follows_topic", true, "topic, user", "topic != ''")
		c.AddIndex("idx_forum_follows_category", true, "category, user", "category != ''")
		return app.Save(c)
	}, func(app core.App) error {
		c, err := app.FindCollectionByNameOrId("forum_follows")
		if err != nil {
			return err
		}
		return app.Delete(c)
	})
}
