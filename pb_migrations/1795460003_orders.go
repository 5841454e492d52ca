package pb_migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
	"github.com/pocketbase/pocketbase/tools/types"
)

// orders are written only by the server (checkout route, Stripe webhook,
// reconciliation); members read their own, admins read all. The product's
// name, price and seller are copied in so an order stays true after the
// product changes.
func init() {
	m.Register(func(app core.App) error {
		users, err := app.FindCollectionByNameOrId("users")
		if err != nil {
			return err
		}
		products, err := app.FindCollectionByNameOrId("products")
		if err != nil {
			return err
		}

		const active = "@request.auth.collectionName = 'users' && @request.auth.suspended = false"
		const admin = "(@request.auth.collectionName = 'users' && @request.auth.role = 'admin' && @request.auth.suspended = false)"

		c := core.NewBaseCollection("orders")
		c.ListRule = types.Pointer(admin + " || (" + active + " && user = @request.auth.id)")
		c.ViewRule = c.ListRule
		c.Fields.Add(
			&core.RelationField{Name: "user", CollectionId: users.Id, MaxSelect: 1, Required: true},
			&core.RelationField{Name: "product", CollectionId: products.Id, MaxSelect: 1},
			&core.TextField{Name: "product_name", Max: 200, Presentable: true},
			&core.RelationField{Name: "seller", CollectionId: users.Id, MaxSelect: 1},
			&core.NumberField{Name: "quantity", OnlyInt: true, Min: types.Pointer(1.0), Required: true},
			&core.NumberField{Name: "unit_amount", OnlyInt: true, Min: types.Pointer(0.0)},
			&core.NumberField{Name: "amount", OnlyInt: true, Min: types.Pointer(0.0), Help: "Total in the currency's smallest unit."},
			&core.TextField{Name: "currency", Max: 3},
			&core.SelectField{Name: "status", MaxSelect: 1, Required: true,
				Values: []string{"pending", "paid", "expired", "canceled", "failed", "refunded"}},
			&core.BoolField{Name: "stock_held", Help: "The order's quantity is taken from the product's stock."},
			&core.TextField{Name: "stripe_session", Max: 255},
			&core.TextField{Name: "stripe_payment_intent", Max: 255},
			&core.URLField{Name: "checkout_url"},
			&core.DateField{Name: "expires_at"},
			&core.DateField{Name: "paid_at"},
			&core.NumberField{Name: "refunded_amount", OnlyInt: true, Min: types.Pointer(0.0)},
			&core.TextField{Name: "note", Max: 500, Help: "Why an order failed or needs an admin's attention."},
		)
		addTimestamps(c)
		c.AddIndex("idx_orders_user", false, "user, created", "")
		c.AddIndex("idx_orders_status", false, "status, expires_at", "")
		c.AddIndex("idx_orders_session", false, "stripe_session", "")
		c.AddIndex("idx_orders_payment_intent", false, "stripe_payment_intent", "")
		return app.Save(c)
	}, func(app core.App) error {
		c, err := app.FindCollectionByNameOrId("orders")
		if err != nil {
			return err
		}
		return app.Delete(c)
	})
}
