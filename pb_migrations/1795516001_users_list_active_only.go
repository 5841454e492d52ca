package pb_migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
	"github.com/pocketbase/pocketbase/tools/types"
)

// Members' lists of members (the directory, mention pickers, search) leave
// out suspended members and signups whose address is not confirmed yet:
// neither is a member others can reach, and an unconfirmed signup's name is
// whatever a stranger typed. Admins still list everyone, and everyone still
// lists themselves. Viewing one record by id is unchanged, so the author of
// an old post still has a name.
func init() {
	const listed = " && (@request.auth.role = 'admin' || id = @request.auth.id || (suspended = false && signup_pending = false))"
	m.Register(func(app core.App) error {
		users, err := app.FindCollectionByNameOrId("users")
		if err != nil {
			return err
		}
		if users.ListRule == nil {
			return nil // locked to superusers: nothing to narrow
		}
		users.ListRule = types.Pointer(*users.ListRule + listed)
		return app.Save(users)
	}, func(app core.App) error {
		users, err := app.FindCollectionByNameOrId("users")
		if err != nil {
			return err
		}
		if users.ListRule != nil && len(*users.ListRule) > len(listed) && (*users.ListRule)[len(*users.ListRule)-len(listed):] == listed {
			users.ListRule = types.Pointer((*users.ListRule)[:len(*users.ListRule)-len(listed)])
		}
		return app.Save(users)
	})
}
