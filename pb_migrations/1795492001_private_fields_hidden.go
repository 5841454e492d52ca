package pb_migrations

import (
	"fmt"

	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

// privateFields lists the fields hidden in the schema: PocketBase then leaves them out of
// every answer and refuses filters and sorts on them (also through relation
// paths such as followee.lang or users_via_rank.suspended) for everyone but
// superusers. The hooks give each value back to those who may see it (the
// member themselves, the tipper, the admins) in OnRecordEnrich.
func privateFields() map[string][]string {
	return map[string][]string{
		"users":       {"verified", "invited_by", "suspended", "lang"},
		"tips":        {"stripe_session", "stripe_payment_intent", "checkout_url", "note", "expires_at"},
		"dm_messages": {"sender_deleted", "recipient_deleted"},
	}
}

func init() {
	m.Register(func(app core.App) error {
		return setHidden(app, true)
	}, func(app core.App) error {
		return setHidden(app, false)
	})
}

func setHidden(app core.App, hidden bool) error {
	for name, fields := range privateFields() {
		c, err := app.FindCollectionByNameOrId(name)
		if err != nil {
			return err
		}
		for _, f := range fields {
			field := c.Fields.GetByName(f)
			if field == nil {
				return fmt.Errorf("%s.%s: no such field", name, f)
			}
			field.SetHidden(hidden)
		}
		if err := app.Save(c); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}
