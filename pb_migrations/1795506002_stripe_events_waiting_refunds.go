package pb_migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

// stripe_events.payment_intent and refunded_amount keep a refund that
// arrived before its payment and could not be matched to an order or tip
// yet (a refund made in the Stripe dashboard carries none of our metadata,
// and we learn the payment intent of a Checkout only with its payment).
// When the payment arrives, it picks the refund up, so the end state does
// not depend on the order Stripe delivers events in.
func init() {
	m.Register(func(app core.App) error {
		c, err := app.FindCollectionByNameOrId("stripe_events")
		if err != nil {
			return err
		}
		c.Fields.Add(
			&core.TextField{Name: "payment_intent", Max: 255},
			&core.NumberField{Name: "refunded_amount", OnlyInt: true, Min: nil},
		)
		c.AddIndex("idx_stripe_events_payment_intent", false, "payment_intent", "payment_intent != ''")
		return app.Save(c)
	}, func(app core.App) error {
		c, err := app.FindCollectionByNameOrId("stripe_events")
		if err != nil {
			return err
		}
		c.RemoveIndex("idx_stripe_events_payment_intent")
		c.Fields.RemoveByName("payment_intent")
		c.Fields.RemoveByName("refunded_amount")
		return app.Save(c)
	})
}
