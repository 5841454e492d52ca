package payments

import (
	"net/http"

	"github.com/pocketbase/pocketbase/core"

	"salonbase/hooks/members"
	"salonbase/hooks/salon"
)

// tipOptions answers GET /api/salon/live/{id}/tips/options: whether the
// caller can tip this stream now, and the salon's limits, so a client shows
// a tip button only where a tip would be taken (payments configured, tips
// on, the stream live, not one's own, not blocked by the host). It never
// reveals why payments are off, nor any key.
func tipOptions(e *core.RequestEvent) error {
	if !salon.IsMember(e.Auth) {
		return salon.Deny("not_member", "Only members may send tips.")
	}
	stream, err := findVisibleStream(e)
	if err != nil {
		return err
	}
	limits, err := LoadTipLimits(e.App)
	if err != nil {
		return err
	}
	keys, err := loadStripeKeys(e.App)
	if err != nil {
		return err
	}
	host := stream.GetString("host")
	available := keys.Secret != "" && stream.GetBool("tips_enabled") &&
		stream.GetString("status") == "live" && host != e.Auth.Id
	if available {
		blocked, err := members.IsBlocked(e.App, host, e.Auth.Id)
		if err != nil {
			return err
		}
		available = !blocked
	}
	presets := limits.Presets
	if presets == nil {
		presets = []int64{}
	}
	return e.JSON(http.StatusOK, map[string]any{
		"available": available,
		"currency":  limits.Currency,
		"decimals":  CurrencyDecimals(limits.Currency),
		"min":       limits.Min,
		"max":       limits.Max,
		"presets":   presets,
	})
}
