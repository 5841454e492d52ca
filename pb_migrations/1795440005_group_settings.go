package pb_migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

// salon_settings.group_create_min_rank: who may create groups.
func init() {
	m.Register(func(app core.App) error {
		settings, err := app.FindCollectionByNameOrId("salon_settings")
		if err != nil {
			return err
		}
		ranks, err := app.FindCollectionByNameOrId("ranks")
		if err != nil {
			return err
		}
		settings.Fields.Add(&core.RelationField{Name: "group_create_min_rank", CollectionId: ranks.Id, MaxSelect: 1,
			Help: "Minimum rank to create groups (empty: every member)."})
		return app.Save(settings)
	}, func(app core.App) error {
		settings, err := app.FindCollectionByNameOrId("salon_settings")
		if err != nil {
			return err
		}
		settings.Fields.RemoveByName("group_create_min_rank")
		return app.Save(settings)
	})
}
