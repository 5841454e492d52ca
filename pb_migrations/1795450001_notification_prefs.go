package pb_migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
	"github.com/pocketbase/pocketbase/tools/types"
)

// notification_prefs holds a member's choice per notification kind: email
// (in-app and e-mail), app (in-app only) or off. A kind without a row uses
// the salon default (salon_settings.notify_defaults). Members change them
// through /api/salon/notifications/prefs (and the unsubscribe link), which
// validates kinds and channels, so the API only lets them read their own.
func init() {
	m.Register(func(app core.App) error {
		users, err := app.FindCollectionByNameOrId("users")
		if err != nil {
			return err
		}
		c := core.NewBaseCollection("notification_prefs")
		c.ListRule = types.Pointer("@request.auth.collectionName = 'users' && user = @request.auth.id")
		c.ViewRule = c.ListRule
		c.Fields.Add(
			&core.RelationField{Name: "user", CollectionId: users.Id, MaxSelect: 1, Required: true, CascadeDelete: true},
			&core.TextField{Name: "kind", Required: true, Max: 50},
			&core.SelectField{Name: "channel", Values: []string{"email", "app", "off"}, MaxSelect: 1, Required: true},
		)
		addTimestamps(c)
		c.AddIndex("idx_notification_prefs_user_kind", true, "user, kind", "")
		return app.Save(c)
	}, func(app core.App) error {
		c, err := app.FindCollectionByNameOrId("notification_prefs")
		if err != nil {
			return err
		}
		return app.Delete(c)
	})
}
