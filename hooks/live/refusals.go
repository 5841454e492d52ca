package live

import (
	"github.com/pocketbase/pocketbase/core"

	"salonbase/hooks/salon"
)

// WriteRefusals says why a member who can see a stream or a chat line may
// not change or delete it (see salon.ExplainStockWrites).
func WriteRefusals() salon.WriteRefusals {
	return salon.WriteRefusals{
		"live_streams": func(_ *core.RequestEvent, _ *core.Record, del bool) *salon.Refusal {
			if del {
				return salon.Deny("not_yours", "Only the host and admins delete a stream.")
			}
			return salon.Deny("not_yours", "Only the host and admins change a stream.")
		},
		"live_chat_messages": func(_ *core.RequestEvent, _ *core.Record, del bool) *salon.Refusal {
			if del {
				return salon.Deny("not_yours", "You can only delete your own chat lines (the host and admins delete any).")
			}
			return nil // read_only: chat lines are not edited
		},
	}
}
