package payments

import (
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"
)

// Register binds Stripe Checkout, the shop and tips, reaching Stripe as the
// environment says (Config; Configure changes it).
func Register(app core.App) {
	configureFromEnv(app)
	app.OnRecordCreate("salon_settings").BindFunc(encryptStripeSecrets)
	app.OnRecordUpdate("salon_settings").BindFunc(encryptStripeSecrets)
	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		if err := sealPlainSecrets(se.App); err != nil {
			se.App.Logger().Error("encrypt the Stripe secrets in salon_settings", "error", err)
		}
		return se.Next()
	})
	app.OnRecordUpdate("ranks").BindFunc(followRankRename)
	bindStripe(app)
	bindShop(app)
	bindTips(app)
}

// Routes binds the Stripe, shop and tip routes to g, the /api/salon group.
func Routes(g *router.RouterGroup[*core.RequestEvent]) {
	stripeRoutes(g)
	shopRoutes(g)
	tipRoutes(g)
}
