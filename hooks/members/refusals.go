package members

import (
	"github.com/pocketbase/pocketbase/core"

	"salonbase/hooks/salon"
)

// WriteRefusals says why a member who can see a profile, invite code,
// follow or report may not change or delete it (see
// salon.ExplainStockWrites).
func WriteRefusals() salon.WriteRefusals {
	return salon.WriteRefusals{
		"users": func(e *core.RequestEvent, user *core.Record, del bool) *salon.Refusal {
			switch {
			case user.Id == salon.AuthID(e):
				return salon.Deny("admins_only", "Only admins change a member's rank, role, inviter, suspension or verification.")
			case del:
				return salon.Deny("not_yours", "You can only delete your own account.")
			}
			return salon.Deny("not_yours", "You can only change your own profile.")
		},
		"invite_codes": func(e *core.RequestEvent, code *core.Record, del bool) *salon.Refusal {
			if del {
				return salon.Deny("invite_used", "This invite code has been used: disable it instead of deleting it.")
			}
			info, err := e.RequestInfo()
			if err == nil {
				if _, ok := info.Body["rank"]; ok {
					return salon.Deny("admins_only", "Only admins give invite codes a rank.")
				}
			}
			return salon.Deny("server_field", "The server chooses the code, its owner and counts its uses.")
		},
		"follows": func(_ *core.RequestEvent, _ *core.Record, del bool) *salon.Refusal {
			if del {
				return salon.Deny("not_yours", "You can only remove your own follows.")
			}
			return nil
		},
		"salon_settings": func(_ *core.RequestEvent, _ *core.Record, del bool) *salon.Refusal {
			if del {
				return nil // read_only: the one settings record stays
			}
			return salon.Deny("admins_only", "Only admins change the salon's settings.")
		},
		"reports": func(_ *core.RequestEvent, _ *core.Record, del bool) *salon.Refusal {
			if del {
				return nil
			}
			return salon.Deny("admins_only", "Only admins handle reports.")
		},
	}
}
