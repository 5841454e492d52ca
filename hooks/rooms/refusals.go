package rooms

import (
	"github.com/pocketbase/pocketbase/core"

	"salonbase/hooks/salon"
)

// WriteRefusals says why a member or guest who can see a room message,
// membership or guest link may not change or delete it (see
// salon.ExplainStockWrites). Deleting messages is decided by the
// room_messages delete hook, which says why itself.
func WriteRefusals() salon.WriteRefusals {
	return salon.WriteRefusals{
		"room_messages": func(e *core.RequestEvent, m *core.Record, del bool) *salon.Refusal {
			if m.GetString("deleted_at") != "" {
				return salon.Deny("message_deleted", "This message was deleted: it cannot change any more.")
			}
			return salon.Deny("not_yours", "You can only edit your own messages.")
		},
		"room_members": func(*core.RequestEvent, *core.Record, bool) *salon.Refusal {
			return salon.Deny("server_field", "A membership's room and member cannot change.")
		},
		"guest_links": func(*core.RequestEvent, *core.Record, bool) *salon.Refusal {
			return salon.Deny("server_field", "A guest link's room, creator and use count are the server's.")
		},
	}
}
