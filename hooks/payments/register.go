package payments

import "github.com/pocketbase/pocketbase/core"

// Register binds Stripe Checkout, the shop and tips.
func Register(app core.App) {
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
