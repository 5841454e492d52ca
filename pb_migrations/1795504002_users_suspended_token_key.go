package pb_migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

// users.suspended_token_key keeps, while a member is suspended, the token
// key their tokens were signed with before the suspension replaced it: a
// request with such a token is told "suspended" instead of a bare 401
// (only a real token of that member verifies against it). Hidden: only
// superusers see it.
func init() {
	m.Register(func(app core.App) error {
		users, err := app.FindCollectionByNameOrId("users")
		if err != nil {
			return err
		}
		users.Fields.Add(&core.TextField{Name: "suspended_token_key", Hidden: true, Max: 255})
		return app.Save(users)
	}, func(app core.App) error {
		users, err := app.FindCollectionByNameOrId("users")
		if err != nil {
			return err
		}
		users.Fields.RemoveByName("suspended_token_key")
		return app.Save(users)
	})
}
