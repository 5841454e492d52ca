package forum

import (
	"github.com/pocketbase/pocketbase/core"

	"salonbase/hooks/salon"
)

// WriteRefusals says why a member who can see a topic, post, group or
// membership may not change or delete it (see salon.ExplainStockWrites).
func WriteRefusals() salon.WriteRefusals {
	return salon.WriteRefusals{
		"forum_topics": func(e *core.RequestEvent, topic *core.Record, del bool) *salon.Refusal {
			if !del {
				return salon.Deny("not_yours", "You can only edit your own topics.")
			}
			if topic.GetString("author") == salon.AuthID(e) {
				return salon.Deny("topic_has_replies", "This topic has replies: only an admin can delete it now.")
			}
			return salon.Deny("not_yours", "You can only delete your own topics.")
		},
		"forum_posts": func(e *core.RequestEvent, _ *core.Record, del bool) *salon.Refusal {
			if del {
				return salon.Deny("not_yours", "You can only delete your own posts.")
			}
			return salon.Deny("not_yours", "You can only edit your own posts.")
		},
		"groups": func(e *core.RequestEvent, _ *core.Record, del bool) *salon.Refusal {
			if del {
				return salon.Deny("group_owner_only", "Only the owner or an admin deletes a group.")
			}
			return salon.Deny("group_moderators_only", "Only the group's owner and moderators change the group.")
		},
		"group_members": func(e *core.RequestEvent, m *core.Record, del bool) *salon.Refusal {
			switch {
			case !del:
				return salon.Deny("read_only", "Memberships change through the group's routes (join, invite, approve, remove, ban, transfer).")
			case m.GetString("user") != salon.AuthID(e):
				return salon.Deny("not_yours", "You can only leave a group yourself: moderators remove members through the group's page.")
			case m.GetString("status") == "banned":
				return salon.Deny("banned", "You are banned from this group: only its moderators can lift the ban.")
			case m.GetString("role") == "owner":
				return salon.Deny("owner_cannot_leave", "Hand the group over to another member before you leave it.")
			}
			return nil
		},
	}
}
