package pb_migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

// users.signup_pending marks an account made by an anonymous signup whose
// address is not confirmed yet: it cannot log in until the member follows
// the link mailed to them. Signups answer the same for new and existing
// addresses, so a login that worked at once would tell them apart. Members
// made by admins or before this change are not affected. Hidden: only
// superusers see it (and the dashboard shows it).
func init() {
	m.Register(func(app core.App) error {
		users, err := app.FindCollectionByNameOrId("users")
		if err != nil {
			return err
		}
		users.Fields.Add(&core.BoolField{Name: "signup_pending", Hidden: true,
			Help: "Signed up, address not confirmed yet: cannot log in until the confirmation link is followed (or verified is set)."})
		return app.Save(users)
	}, func(app core.App) error {
		users, err := app.FindCollectionByNameOrId("users")
		if err != nil {
			return err
		}
		users.Fields.RemoveByName("signup_pending")
		return app.Save(users)
	})
}
