package events

import (
	"github.com/pocketbase/pocketbase/core"

	"salonbase/hooks/salon"
)

// WriteRefusals says why a member who can see an event or RSVP may not
// change or delete it (see salon.ExplainStockWrites).
func WriteRefusals() salon.WriteRefusals {
	return salon.WriteRefusals{
		"events": func(e *core.RequestEvent, event *core.Record, del bool) *salon.Refusal {
			if event.GetString("organizer") == salon.AuthID(e) {
				return salon.Deny("admins_only", "Only admins hand an event to another organizer.")
			}
			if del {
				return salon.Deny("not_yours", "You can only delete the events you organize.")
			}
			return salon.Deny("not_yours", "You can only change the events you organize.")
		},
		"event_rsvps": func(*core.RequestEvent, *core.Record, bool) *salon.Refusal {
			return salon.Deny("read_only", "RSVPs change through POST or DELETE /api/salon/events/{id}/rsvp.")
		},
	}
}
