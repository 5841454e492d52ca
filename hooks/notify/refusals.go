package notify

import (
	"github.com/pocketbase/pocketbase/core"

	"salonbase/hooks/salon"
)

// WriteRefusals says why a member may not change their notifications or
// preferences through the stock routes (see salon.ExplainStockWrites).
func WriteRefusals() salon.WriteRefusals {
	return salon.WriteRefusals{
		"notifications": func(*core.RequestEvent, *core.Record, bool) *salon.Refusal {
			return salon.Deny("server_field", "You can only mark your notifications as read.")
		},
		"notification_prefs": func(*core.RequestEvent, *core.Record, bool) *salon.Refusal {
			return salon.Deny("read_only", "Notification settings change through POST /api/salon/notifications/prefs.")
		},
	}
}
