package pb_migrations

import (
	"encoding/json"
	"fmt"

	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

// field_help: help text under every field an operator edits in the
// dashboard, so that the dashboard explains the salon without the README.
func init() {
	help := map[string]map[string]string{
		"users": {
			"name":       "Display name, shown to other members. The e-mail address is never shown to them.",
			"avatar":     "Profile picture (JPEG, PNG, GIF or WebP).",
			"bio":        "A short introduction on the member's profile page.",
			"lang":       "Language of e-mails and of the web client: ja or en. Empty: the browser's language.",
			"invited_by": "The member whose invite code this member signed up with (set by the server).",
		},
		"ranks": {
			"name":        "The rank's name as members see it. Access compares levels, not names.",
			"description": "What this rank gives a member, shown on the web client.",
		},
		"salon_settings": {
			"salon_name": "The salon's name in e-mails, calendar feeds and the web client.",
		},
		"invite_codes": {
			"code":       "The code a newcomer types or opens as /join/CODE. Leave empty to have one generated.",
			"owner":      "The member who invites with this code (they are recorded as invited_by).",
			"expires_at": "After this time the code no longer works. Empty: never expires.",
			"disabled":   "Turn the code off at once without deleting it.",
			"note":       "A private note for admins (for example where the code was handed out).",
		},
		"reports": {
			"reporter":          "The member who reported (set by the server).",
			"target_collection": "What kind of thing was reported (dm_messages, room_messages, forum_posts, users, …).",
			"target_id":         "The id of the reported record in that collection.",
			"category":          "The reporter's reason in one word.",
			"reason":            "The reporter's own words.",
			"status":            "Where the report stands: set it as you handle it.",
			"admin_note":        "What was done about it (visible to admins only).",
			"handled_by":        "The admin who handled the report.",
		},
		"rooms": {
			"name":        "The room's name in the room list.",
			"description": "What the room is for, shown above its messages.",
		},
		"forum_categories": {
			"name":        "The category's name on the forum page.",
			"description": "What belongs in this category, shown under its name.",
		},
		"groups": {
			"name":        "The group's name; its chat room is renamed with it.",
			"description": "What the group is about, shown on its page.",
			"owner":       "The member who runs the group (hand it over with the transfer route or here).",
			"cover":       "A cover picture for the group's page.",
		},
		"events": {
			"title":       "The event's title in lists, notices and calendar feeds.",
			"description": "What happens at the event (Markdown).",
			"kind":        "live, meetup, offline (an off-kai), seminar or other.",
			"starts_at":   "Start time (stored in UTC; members see their own time zone).",
			"ends_at":     "End time; empty for an open end.",
			"location":    "Where an offline event takes place; only members who may see the event see it.",
			"online_url":  "The link to join online; only members who may see the event see it.",
			"min_rank":    "Only members of this rank and above see the event and may RSVP. Empty: every member.",
			"published":   "Unpublished events are drafts, visible to the organizer and admins. Publishing notifies members once.",
			"cancelled":   "Cancel the event: everyone who RSVPed is told.",
			"organizer":   "The member who organizes the event (may edit it).",
			"cover":       "A picture for the event's page.",
		},
		"products": {
			"name":        "The product's name in the shop.",
			"description": "What the buyer gets (Markdown).",
			"images":      "Product pictures (only members who may see the product can load them).",
			"sale_starts": "The product can be bought from this time on. Empty: at once.",
			"sale_ends":   "The product can be bought until this time. Empty: no end.",
			"active":      "Inactive products are hidden from members and cannot be bought.",
		},
		"live_streams": {
			"title":        "The stream's title in lists and notices.",
			"description":  "What the stream is about.",
			"host":         "The member who broadcasts.",
			"status":       "Set by the media server: scheduled, then live, then ended.",
			"started_at":   "When the stream went live (set by the media server).",
			"ended_at":     "When the stream ended (set by the media server).",
			"viewer_count": "Viewers watching now (set by the media server, at most once a second).",
			"tips_enabled": "Viewers may send tips during this stream (when payments are configured).",
			"room":         "The id of a chat room shown beside the stream, if any.",
		},
	}

	m.Register(func(app core.App) error {
		for name, fields := range help {
			c, err := app.FindCollectionByNameOrId(name)
			if err != nil {
				return err
			}
			for field, text := range fields {
				f := c.Fields.GetByName(field)
				if f == nil {
					return fmt.Errorf("%s.%s: no such field", name, field)
				}
				if err := setHelp(f, text); err != nil {
					return fmt.Errorf("%s.%s: %w", name, field, err)
				}
			}
			if err := app.Save(c); err != nil {
				return err
			}
		}
		return nil
	}, func(app core.App) error {
		for name, fields := range help {
			c, err := app.FindCollectionByNameOrId(name)
			if err != nil {
				return err
			}
			for field := range fields {
				if f := c.Fields.GetByName(field); f != nil {
					if err := setHelp(f, ""); err != nil {
						return err
					}
				}
			}
			if err := app.Save(c); err != nil {
				return err
			}
		}
		return nil
	})
}

// setHelp sets a field's help text through its JSON form: the field types
// have no common setter, and every one of them has the "help" property.
func setHelp(f core.Field, text string) error {
	raw, err := json.Marshal(f)
	if err != nil {
		return err
	}
	var props map[string]any
	if err := json.Unmarshal(raw, &props); err != nil {
		return err
	}
	props["help"] = text
	if raw, err = json.Marshal(props); err != nil {
		return err
	}
	return json.Unmarshal(raw, f)
}
