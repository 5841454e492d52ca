package payments

import "github.com/pocketbase/pocketbase/core"

// Register binds Stripe Checkout, the shop and tips.
func Register(app core.App) {
	bindStripe(app)
	bindShop(app)
	bindTips(app)
}
