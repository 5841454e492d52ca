package live

import (
	"net/http"

	"github.com/pocketbase/pocketbase/core"
	"github.com/spf13/cast"

	"salonbase/hooks/salon"
)

// GuardCallCreates answers, before the create rule (see salon.StockCreate),
// a call placed without the caller or in someone else's name.
func GuardCallCreates(e *core.RequestEvent) error {
	c, ok := salon.StockCreate(e)
	if !ok || c.Name != "calls" || !salon.IsMember(e.Auth) {
		return e.Next()
	}
	info, err := e.RequestInfo()
	if err != nil {
		return e.Next() // the records handler reports the malformed body
	}
	switch caller := cast.ToString(info.Body["caller"]); {
	case caller == "":
		return salon.Refuse(http.StatusBadRequest, "caller_required", "Say who calls: set caller to your own id.")
	case caller != e.Auth.Id:
		return salon.Deny("not_yours", "You can only place calls yourself.")
	}
	return e.Next()
}
