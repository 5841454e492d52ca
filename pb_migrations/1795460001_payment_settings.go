package pb_migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
	"github.com/pocketbase/pocketbase/tools/types"
)

// Stripe keys and payment options live in salon_settings so an operator can
// connect Stripe from the dashboard. The secrets are Hidden: no API response
// ever carries them and only superusers may write them. The environment
// variables STRIPE_SECRET_KEY / STRIPE_WEBHOOK_SECRET take precedence
// (hooks/stripe.go).
func init() {
	m.Register(func(app core.App) error {
		c, err := app.FindCollectionByNameOrId("salon_settings")
		if err != nil {
			return err
		}
		c.Fields.Add(
			&core.TextField{Name: "stripe_secret_key", Hidden: true, Max: 255, Pattern: `^(sk|rk)_(test|live)_\S+$`,
				Help: "Stripe secret (or restricted) key. The STRIPE_SECRET_KEY environment variable wins over this field."},
			&core.TextField{Name: "stripe_webhook_secret", Hidden: true, Max: 255, Pattern: `^whsec_\S+$`,
				Help: "Signing secret of the webhook endpoint /api/salon/stripe/webhook. STRIPE_WEBHOOK_SECRET wins over this field."},
			&core.NumberField{Name: "checkout_expiry_minutes", OnlyInt: true, Min: types.Pointer(30.0), Max: types.Pointer(1440.0),
				Help: "How long an unpaid order keeps its stock reserved (Stripe allows 30 to 1440 minutes; empty = 30)."},
			&core.URLField{Name: "shop_return_url",
				Help: "Where Stripe sends the buyer back after paying or cancelling (empty: the application URL)."},
		)
		return app.Save(c)
	}, func(app core.App) error {
		c, err := app.FindCollectionByNameOrId("salon_settings")
		if err != nil {
			return err
		}
		for _, name := range []string{"stripe_secret_key", "stripe_webhook_secret", "checkout_expiry_minutes", "shop_return_url"} {
			c.Fields.RemoveByName(name)
		}
		return app.Save(c)
	})
}
