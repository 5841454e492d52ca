package pb_migrations

import (
	"strings"

	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

// users_mail_links: the verification and password-reset e-mails link to the
// member web client's pages (/auth/confirm-…), not to the dashboard's, so a
// member never lands in the operators' dashboard.
func init() {
	const dashboard, client = "{APP_URL}/_/#/auth/", "{APP_URL}/auth/"
	relink := func(from, to string) func(app core.App) error {
		return func(app core.App) error {
			users, err := app.FindCollectionByNameOrId("users")
			if err != nil {
				return err
			}
			for _, tpl := range []*core.EmailTemplate{&users.VerificationTemplate, &users.ResetPasswordTemplate} {
				tpl.Body = strings.ReplaceAll(tpl.Body, from+"confirm-", to+"confirm-")
			}
			return app.Save(users)
		}
	}
	m.Register(relink(dashboard, client), relink(client, dashboard))
}
