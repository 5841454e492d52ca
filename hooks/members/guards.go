package members

import (
	"net/http"

	"github.com/pocketbase/pocketbase/core"
	"github.com/spf13/cast"

	"salonbase/hooks/salon"
)

// GuardMemberCreates answers, before the create rules, the refusals a
// member meets creating invite codes, blocks, follows and reports (see
// salon.StockCreate for why a middleware). The rules still decide the same.
func GuardMemberCreates(e *core.RequestEvent) error {
	c, ok := salon.StockCreate(e)
	if !ok || !salon.IsMember(e.Auth) || salon.IsAdmin(e.Auth) {
		return e.Next()
	}
	switch c.Name {
	case "invite_codes", "blocks", "follows", "reports":
	default:
		return e.Next()
	}
	info, err := e.RequestInfo()
	if err != nil {
		return e.Next() // the records handler reports the malformed body
	}
	set := func(field string) bool { _, ok := info.Body[field]; return ok }
	// the rules refuse an own-field that is sent and not the caller's id
	notMe := func(field string) bool { v, ok := info.Body[field]; return ok && cast.ToString(v) != e.Auth.Id }
	switch c.Name {
	case "invite_codes":
		switch {
		case set("rank"):
			return salon.Deny("admins_only", "Only admins can create invite codes that grant a rank.")
		case notMe("owner"):
			return salon.Deny("not_yours", "You can only create invite codes of your own.")
		case set("code") || set("uses"):
			return salon.Deny("server_field", "The server chooses the code and counts its uses.")
		}
	case "blocks":
		switch {
		case notMe("user"):
			return salon.Deny("not_yours", "You can only block members for yourself.")
		case cast.ToString(info.Body["blocked"]) == e.Auth.Id:
			return salon.Refuse(http.StatusBadRequest, "block_self", "You cannot block yourself.")
		}
	case "follows":
		switch {
		case notMe("follower"):
			return salon.Deny("not_yours", "You can only follow members yourself.")
		case cast.ToString(info.Body["followee"]) == e.Auth.Id:
			return salon.Refuse(http.StatusBadRequest, "follow_self", "You cannot follow yourself.")
		}
	case "reports":
		switch {
		case notMe("reporter"):
			return salon.Deny("not_yours", "You can only file reports as yourself.")
		case set("status") || set("admin_note") || set("handled_by"):
			return salon.Deny("admins_only", "Only admins set a report's status, note and handler.")
		}
	}
	return e.Next()
}
