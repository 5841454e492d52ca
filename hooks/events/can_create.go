package events

import (
	"net/http"

	"github.com/pocketbase/pocketbase/core"

	"salonbase/hooks/salon"
)

type canCreateAnswer struct {
	Allowed bool    `json:"allowed"`
	Reason  *reason `json:"reason,omitempty"` // why not, as a refusal would say it
}

type reason struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// canCreate answers GET /api/salon/events/can-create: whether the caller
// may create events (CanCreateEvent), so a client shows "New event" only to
// those the create would not refuse, without reading the salon's settings.
func canCreate(e *core.RequestEvent) error {
	err := CanCreateEvent(e.App, e.Auth)
	if err == nil {
		return e.JSON(http.StatusOK, canCreateAnswer{Allowed: true})
	}
	r, ok := salon.AsRefusal(err)
	if !ok {
		return e.InternalServerError("", err)
	}
	return e.JSON(http.StatusOK, canCreateAnswer{Reason: &reason{Code: r.Code, Message: r.Reason}})
}
