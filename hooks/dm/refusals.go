package dm

import (
	"github.com/pocketbase/pocketbase/core"

	"salonbase/hooks/salon"
)

// WriteRefusals says why a party of a direct message may not change it (see
// salon.ExplainStockWrites); GuardDMWrites names most such fields first.
func WriteRefusals() salon.WriteRefusals {
	return salon.WriteRefusals{
		"dm_messages": func(e *core.RequestEvent, m *core.Record, _ bool) *salon.Refusal {
			if m.GetString("sender") == salon.AuthID(e) {
				return salon.Deny("dm_field_readonly", "On a message you sent you can only change sender_deleted.")
			}
			return salon.Deny("dm_field_readonly", "On this message you can only change read_at and recipient_deleted.")
		},
	}
}
