package pb_migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
	"github.com/pocketbase/pocketbase/tools/security"
	"github.com/pocketbase/pocketbase/tools/types"
)

// Settings of notifications, e-mail and events, edited in the dashboard.
// notify_secret signs unsubscribe links and calendar feed URLs; it is
// hidden (superusers only) and generated here, so every salon has its own.
func init() {
	m.Register(func(app core.App) error {
		c, err := app.FindCollectionByNameOrId("salon_settings")
		if err != nil {
			return err
		}
		ranks, err := app.FindCollectionByNameOrId("ranks")
		if err != nil {
			return err
		}
		c.Fields.Add(
			&core.JSONField{Name: "notify_defaults", MaxSize: 4000,
				Help: `Default channel per notification kind for members who have not chosen: {"dm":"email","room_post":"app","follow_post":"off"}. Channels: email (in-app and e-mail), app (in-app only), off.`},
			&core.NumberField{Name: "email_rate_per_minute", OnlyInt: true, Min: types.Pointer(0.0),
				Help: "At most this many e-mails per minute leave the outbox (0: no limit)."},
			&core.NumberField{Name: "notify_retention_days", OnlyInt: true, Min: types.Pointer(0.0),
				Help: "Notifications older than this are deleted every night (0: keep forever)."},
			&core.TextField{Name: "notify_secret", Hidden: true, Min: 32, Max: 100, AutogeneratePattern: `[a-zA-Z0-9]{48}`,
				Help: "Signs unsubscribe links and calendar feed URLs. Changing it invalidates every link already sent."},
			&core.RelationField{Name: "event_create_min_rank", CollectionId: ranks.Id, MaxSelect: 1,
				Help: "Members of this rank or higher may create events (empty: only admins and tutors)."},
		)
		if err := app.Save(c); err != nil {
			return err
		}
		s, err := app.FindFirstRecordByFilter("salon_settings", "")
		if err != nil {
			return err
		}
		s.Set("email_rate_per_minute", 600)
		s.Set("notify_retention_days", 180)
		s.Set("notify_secret", security.RandomString(48))
		return app.Save(s)
	}, func(app core.App) error {
		c, err := app.FindCollectionByNameOrId("salon_settings")
		if err != nil {
			return err
		}
		for _, f := range []string{"notify_defaults", "email_rate_per_minute", "notify_retention_days", "notify_secret", "event_create_min_rank"} {
			c.Fields.RemoveByName(f)
		}
		return app.Save(c)
	})
}
