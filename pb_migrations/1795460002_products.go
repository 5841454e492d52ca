package pb_migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
	"github.com/pocketbase/pocketbase/tools/types"
)

// products are listed by admins in the dashboard. Members see the active
// products their rank may buy; hooks/shop.go adds each member's own price
// and whether the product can be bought now. Stock only changes through
// checkout (and admins).
func init() {
	m.Register(func(app core.App) error {
		users, err := app.FindCollectionByNameOrId("users")
		if err != nil {
			return err
		}
		ranks, err := app.FindCollectionByNameOrId("ranks")
		if err != nil {
			return err
		}

		const active = "@request.auth.collectionName = 'users' && @request.auth.suspended = false"
		const admin = "(@request.auth.collectionName = 'users' && @request.auth.role = 'admin' && @request.auth.suspended = false)"

		c := core.NewBaseCollection("products")
		c.ListRule = types.Pointer(admin + " || (" + active + " && active = true" +
			" && (min_rank = '' || min_rank.level <= @request.auth.rank.level))")
		c.ViewRule = c.ListRule
		c.CreateRule = types.Pointer(admin)
		c.UpdateRule = types.Pointer(admin)
		c.DeleteRule = types.Pointer(admin)
		c.Fields.Add(
			&core.TextField{Name: "name", Required: true, Max: 200, Presentable: true},
			&core.EditorField{Name: "description", MaxSize: 100_000},
			&core.FileField{Name: "images", MaxSelect: 10, MaxSize: 10 << 20, Protected: true,
				MimeTypes: []string{"image/jpeg", "image/png", "image/webp", "image/gif"},
				Thumbs:    []string{"400x400", "1200x0"}},
			&core.NumberField{Name: "price", Required: true, OnlyInt: true, Min: types.Pointer(1.0),
				Help: "In the currency's smallest unit as Stripe counts it: cents for USD/EUR, yen for JPY (1500 = ¥1,500)."},
			&core.TextField{Name: "currency", Required: true, Min: 3, Max: 3, Pattern: `^[a-z]{3}$`,
				Help: "ISO code in lower case: jpy, usd, eur …"},
			&core.NumberField{Name: "stock", OnlyInt: true, Min: types.Pointer(0.0), Help: "Items left to sell (ignored when unlimited)."},
			&core.BoolField{Name: "unlimited", Help: "No stock limit (digital goods, services)."},
			&core.NumberField{Name: "max_per_order", OnlyInt: true, Min: types.Pointer(0.0), Help: "0 = up to 100."},
			&core.DateField{Name: "sale_starts"},
			&core.DateField{Name: "sale_ends"},
			&core.RelationField{Name: "min_rank", CollectionId: ranks.Id, MaxSelect: 1,
				Help: "Only members of this rank and above see and buy the product (empty: every member)."},
			&core.JSONField{Name: "rank_prices", MaxSize: 10_000,
				Help: `Price by rank name, for that rank and above, e.g. {"Gold": 1200}. The lowest applicable price wins.`},
			&core.JSONField{Name: "rank_discounts", MaxSize: 10_000,
				Help: `Percent off by rank name, for that rank and above, e.g. {"Silver": 10}. The lowest applicable price wins.`},
			&core.RelationField{Name: "seller", CollectionId: users.Id, MaxSelect: 1,
				Help: "Member who sells this item (notified of each sale)."},
			&core.BoolField{Name: "active"},
		)
		addTimestamps(c)
		c.AddIndex("idx_products_active", false, "active, sale_starts", "")
		return app.Save(c)
	}, func(app core.App) error {
		c, err := app.FindCollectionByNameOrId("products")
		if err != nil {
			return err
		}
		return app.Delete(c)
	})
}
