package payments

import (
	"time"

	"github.com/pocketbase/pocketbase/core"

	"salonbase/hooks/salon"
)

// SaleState says whether a product can be bought at a moment.
type SaleState string

const (
	SaleAvailable SaleState = "available"
	SaleNotYet    SaleState = "not_yet"
	SaleEnded     SaleState = "ended"
	SaleSoldOut   SaleState = "sold_out"
	SaleInactive  SaleState = "inactive"
)

// ProductSaleState decides, without the buyer, whether product is on sale
// at now: active, inside its sale window, and in stock.
func ProductSaleState(product *core.Record, now time.Time) SaleState {
	switch {
	case !product.GetBool("active"):
		return SaleInactive
	case !product.GetDateTime("sale_starts").IsZero() && now.Before(product.GetDateTime("sale_starts").Time()):
		return SaleNotYet
	case !product.GetDateTime("sale_ends").IsZero() && !now.Before(product.GetDateTime("sale_ends").Time()):
		return SaleEnded
	case !product.GetBool("unlimited") && product.GetInt("stock") <= 0:
		return SaleSoldOut
	}
	return SaleAvailable
}

// CanSeeProduct reports whether user may see (and so try to buy) product:
// admins see everything; members see active products of their rank.
// It mirrors the products list rule.
func CanSeeProduct(app core.App, user, product *core.Record) (bool, error) {
	if salon.IsAdmin(user) {
		return true, nil
	}
	if !salon.IsMember(user) || !product.GetBool("active") {
		return false, nil
	}
	return salon.HasRank(app, user, product.GetString("min_rank"))
}
