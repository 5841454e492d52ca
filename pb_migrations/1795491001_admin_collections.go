package pb_migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
	"github.com/pocketbase/pocketbase/tools/types"
)

// admin_collections: rooms and ranks were left superuser-only (no create,
// update or delete rule), so members with role=admin got 403 where a
// dashboard superuser succeeded. Both kinds of admin are equal: an active
// role=admin member may now manage them through the API too.
func init() {
	const appAdmin = "(@request.auth.collectionName = 'users' && @request.auth.role = 'admin' && @request.auth.suspended = false)"
	m.Register(func(app core.App) error {
		for _, name := range []string{"rooms", "ranks"} {
			c, err := app.FindCollectionByNameOrId(name)
			if err != nil {
				return err
			}
			c.CreateRule = types.Pointer(appAdmin)
			c.UpdateRule = types.Pointer(appAdmin)
			c.DeleteRule = types.Pointer(appAdmin)
			if err := app.Save(c); err != nil {
				return err
			}
		}
		return nil
	}, func(app core.App) error {
		for _, name := range []string{"rooms", "ranks"} {
			c, err := app.FindCollectionByNameOrId(name)
			if err != nil {
				return err
			}
			c.CreateRule, c.UpdateRule, c.DeleteRule = nil, nil, nil
			if err := app.Save(c); err != nil {
				return err
			}
		}
		return nil
	})
}
