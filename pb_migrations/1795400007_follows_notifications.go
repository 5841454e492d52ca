package pb_migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
	"github.com/pocketbase/pocketbase/tools/types"
)

// follows and notifications are written by many features (forum, events,
// live, rooms), so they land with the foundation. Notifications are created
// only by the server (hooks/notify.go); their owner may mark them read or
// delete them.
func init() {
	m.Register(func(app core.App) error {
		users, err := app.FindCollectionByNameOrId("users")
		if err != nil {
			return err
		}

		const active = "@request.auth.collectionName = 'users' && @request.auth.suspended = false"

		follows := core.NewBaseCollection("follows")
		follows.ListRule = types.Pointer(active)
		follows.ViewRule = follows.ListRule
		follows.CreateRule = types.Pointer(active +
			" && (@request.body.follower:isset = false || @request.body.follower = @request.auth.id)" +
			" && @request.body.followee != @request.auth.id")
		follows.DeleteRule = types.Pointer(active + " && follower = @request.auth.id")
		follows.Fields.Add(
			&core.RelationField{Name: "follower", CollectionId: users.Id, MaxSelect: 1, Required: true, CascadeDelete: true},
			&core.RelationField{Name: "followee", CollectionId: users.Id, MaxSelect: 1, Required: true, CascadeDelete: true},
		)
		addTimestamps(follows)
		follows.AddIndex("idx_follows_pair", true, "follower, followee", "")
		follows.AddIndex("idx_follows_followee", false, "followee", "")
		if err := app.Save(follows); err != nil {
			return err
		}

		n := core.NewBaseCollection("notifications")
		n.ListRule = types.Pointer(active + " && user = @request.auth.id")
		n.ViewRule = n.ListRule
		n.UpdateRule = types.Pointer(active + " && user = @request.auth.id" +
			" && @request.body.user:changed = false && @request.body.kind:changed = false" +
			" && @request.body.title:changed = false && @request.body.body:changed = false" +
			" && @request.body.url:changed = false && @request.body.source_collection:changed = false" +
			" && @request.body.source_id:changed = false")
		n.DeleteRule = types.Pointer(active + " && user = @request.auth.id")
		n.Fields.Add(
			&core.RelationField{Name: "user", CollectionId: users.Id, MaxSelect: 1, Required: true, CascadeDelete: true},
			&core.TextField{Name: "kind", Required: true, Max: 50},
			&core.TextField{Name: "title", Required: true, Max: 200},
			&core.TextField{Name: "body", Max: 2000},
			&core.TextField{Name: "url", Max: 500},
			&core.TextField{Name: "source_collection", Max: 64},
			&core.TextField{Name: "source_id", Max: 32},
			&core.BoolField{Name: "read"},
		)
		addTimestamps(n)
		n.AddIndex("idx_notifications_user", false, "user, read, created", "")
		return app.Save(n)
	}, func(app core.App) error {
		for _, name := range []string{"notifications", "follows"} {
			c, err := app.FindCollectionByNameOrId(name)
			if err != nil {
				return err
			}
			if err := app.Delete(c); err != nil {
				return err
			}
		}
		return nil
	})
}
