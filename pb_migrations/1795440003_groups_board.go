package pb_migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

// A group's board: groups.category points at the forum category scoped to
// the group (created with the group by hooks/groups.go). The group's chat
// room (groups.room) comes with a later migration once rooms have landed.
func init() {
	m.Register(func(app core.App) error {
		groups, err := app.FindCollectionByNameOrId("groups")
		if err != nil {
			return err
		}
		cats, err := app.FindCollectionByNameOrId("forum_categories")
		if err != nil {
			return err
		}
		groups.Fields.Add(&core.RelationField{Name: "category", CollectionId: cats.Id, MaxSelect: 1,
			Help: "The group's board; set by the server."})
		return app.Save(groups)
	}, func(app core.App) error {
		groups, err := app.FindCollectionByNameOrId("groups")
		if err != nil {
			return err
		}
		groups.Fields.RemoveByName("category")
		return app.Save(groups)
	})
}
