package pb_migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
	"github.com/pocketbase/pocketbase/tools/types"
)

// Guests are non-members admitted to one chat room through a guest link.
// They live in their own auth collection so that no users rule can ever let
// a guest in by accident. They have no password: the guest link route issues
// their token.
func init() {
	m.Register(func(app core.App) error {
		c := core.NewAuthCollection("guests")
		c.ListRule = types.Pointer("id = @request.auth.id")
		c.ViewRule = c.ListRule
		c.PasswordAuth.Enabled = false
		c.AuthAlert.Enabled = false
		c.AuthToken.Duration = 7 * 24 * 3600

		if email, ok := c.Fields.GetByName("email").(*core.EmailField); ok {
			email.Required = false
		}
		c.Fields.Add(&core.TextField{Name: "name", Required: true, Max: 50, Presentable: true})
		addTimestamps(c)
		return app.Save(c)
	}, func(app core.App) error {
		c, err := app.FindCollectionByNameOrId("guests")
		if err != nil {
			return err
		}
		return app.Delete(c)
	})
}
