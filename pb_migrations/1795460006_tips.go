package pb_migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
	"github.com/pocketbase/pocketbase/tools/types"
)

// tips are written only by the server (POST /api/salon/live/{id}/tips and
// the Stripe webhook). A tip becomes visible to every member only once it
// is paid: that update is what the stream's viewers receive in realtime.
// `stream` holds a live_streams id; it is a plain text field so this
// migration does not depend on the media server's migration order (the
// route checks the stream exists).
func init() {
	m.Register(func(app core.App) error {
		users, err := app.FindCollectionByNameOrId("users")
		if err != nil {
			return err
		}

		const active = "@request.auth.collectionName = 'users' && @request.auth.suspended = false"
		const admin = "(@request.auth.collectionName = 'users' && @request.auth.role = 'admin' && @request.auth.suspended = false)"

		c := core.NewBaseCollection("tips")
		c.ListRule = types.Pointer(admin + " || (" + active +
			" && (status = 'paid' || from = @request.auth.id || to = @request.auth.id))")
		c.ViewRule = c.ListRule
		c.Fields.Add(
			&core.TextField{Name: "stream", Required: true, Max: 32},
			&core.RelationField{Name: "from", CollectionId: users.Id, MaxSelect: 1, Required: true},
			&core.RelationField{Name: "to", CollectionId: users.Id, MaxSelect: 1, Required: true},
			&core.NumberField{Name: "amount", OnlyInt: true, Min: types.Pointer(1.0), Required: true},
			&core.TextField{Name: "currency", Max: 3, Required: true},
			&core.TextField{Name: "message", Max: 200},
			&core.SelectField{Name: "status", MaxSelect: 1, Required: true,
				Values: []string{"pending", "paid", "expired", "canceled", "failed", "refunded"}},
			&core.TextField{Name: "stripe_session", Max: 255},
			&core.TextField{Name: "stripe_payment_intent", Max: 255},
			&core.URLField{Name: "checkout_url"},
			&core.DateField{Name: "expires_at"},
			&core.DateField{Name: "paid_at"},
			&core.NumberField{Name: "refunded_amount", OnlyInt: true, Min: types.Pointer(0.0)},
			&core.TextField{Name: "note", Max: 500},
		)
		addTimestamps(c)
		c.AddIndex("idx_tips_stream", false, "stream, status", "")
		c.AddIndex("idx_tips_to", false, "`to`, status", "")
		c.AddIndex("idx_tips_from", false, "`from`, created", "")
		c.AddIndex("idx_tips_session", false, "stripe_session", "")
		c.AddIndex("idx_tips_payment_intent", false, "stripe_payment_intent", "")
		return app.Save(c)
	}, func(app core.App) error {
		c, err := app.FindCollectionByNameOrId("tips")
		if err != nil {
			return err
		}
		return app.Delete(c)
	})
}
