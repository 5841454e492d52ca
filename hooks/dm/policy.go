package dm

import (
	"fmt"

	"github.com/pocketbase/pocketbase/core"

	"salonbase/hooks/members"
	"salonbase/hooks/salon"
)

// DMParty is what the DM policy needs to know about one side of a message.
type DMParty struct {
	Role      string
	RankLevel int
	RankName  string
	Suspended bool
}

// DMSettings is the DM part of salon_settings with rank levels resolved.
type DMSettings struct {
	Mode       string // open | admin_only | off
	MemberMin  salon.MinRank
	TutorMin   salon.MinRank
	ReceiveMin salon.MinRank
}

// DecideDM applies the DM policy in order and returns nil when sender may
// message recipient, or the first rule that refuses. blocked is whether the
// recipient has blocked the sender; replying is whether the message answers
// one the recipient sent to the sender.
//
// Rule 8 (a reply is always allowed) is checked right after rule 2, since it
// overrides the mode and rank rules; with dm_mode=off only replies to admins
// pass, so "off" still means no member-to-member messages.
func DecideDM(s DMSettings, sender, recipient DMParty, blocked, replying bool) error {
	senderAdmin := sender.Role == salon.RoleAdmin
	recipientAdmin := recipient.Role == salon.RoleAdmin

	// 1. suspension and blocks (admins ignore blocks)
	if sender.Suspended {
		return salon.Deny("suspended", "Your account is suspended.")
	}
	if recipient.Suspended {
		return salon.Deny("recipient_suspended", "This member's account is suspended.")
	}
	if blocked && !senderAdmin {
		return salon.Deny("blocked", "This member does not accept messages from you.")
	}

	// 2. admins may always write
	if senderAdmin {
		return nil
	}

	// 8. answering the recipient is allowed: if they could write, you can reply
	if replying && (s.Mode != "off" || recipientAdmin) {
		return nil
	}

	if s.Mode == "off" {
		return salon.Deny("dm_off", "Direct messages are turned off.")
	}

	// 3. members can always reach the operator
	if recipientAdmin {
		return nil
	}

	// 4.
	if s.Mode == "admin_only" {
		return salon.Deny("admin_only", "Direct messages are limited to the operator.")
	}

	// 5. contacting tutors
	if recipient.Role == salon.RoleTutor {
		if sender.Role == salon.RoleTutor || s.TutorMin.Allows(sender.RankLevel) {
			return nil
		}
		return salon.Deny("rank_too_low", "Contacting tutors needs the %s rank or above (yours: %s).", s.TutorMin.Name, sender.RankName)
	}

	// 6. tutors reach their students
	if sender.Role == salon.RoleTutor {
		return nil
	}

	// 7. member to member
	if !s.MemberMin.Allows(sender.RankLevel) {
		return salon.Deny("rank_too_low", "Messaging members needs the %s rank or above (yours: %s).", s.MemberMin.Name, sender.RankName)
	}
	if !s.ReceiveMin.Allows(recipient.RankLevel) {
		return salon.Deny("recipient_rank_too_low", "This member's rank cannot receive direct messages from members.")
	}
	return nil
}

// CanDM decides whether sender may send a direct message to recipient now,
// reading the current salon_settings, ranks and blocks. replying is whether
// the message answers one that recipient sent to sender. It returns a
// *Refusal for a refusal and a plain error when the lookup failed.
func CanDM(app core.App, sender, recipient *core.Record, replying bool) error {
	if sender.Id == recipient.Id {
		return salon.Deny("self", "You cannot send a direct message to yourself.")
	}
	settings, err := LoadDMSettings(app)
	if err != nil {
		return err
	}
	s, err := DmParty(app, sender)
	if err != nil {
		return err
	}
	r, err := DmParty(app, recipient)
	if err != nil {
		return err
	}
	blocked, err := members.IsBlocked(app, recipient.Id, sender.Id)
	if err != nil {
		return fmt.Errorf("check blocks: %w", err)
	}
	return DecideDM(settings, s, r, blocked, replying)
}

func DmParty(app core.App, user *core.Record) (DMParty, error) {
	p := DMParty{Role: user.GetString("role"), Suspended: user.GetBool("suspended"), RankName: "none"}
	if id := user.GetString("rank"); id != "" {
		rank, err := salon.Rank(app, id)
		if err != nil {
			return p, fmt.Errorf("rank of %s: %w", user.Id, err)
		}
		p.RankLevel = rank.Level
		p.RankName = rank.Name
	}
	return p, nil
}

// LoadDMSettings reads the DM settings afresh, so a change in the dashboard
// applies to the next message.
func LoadDMSettings(app core.App) (DMSettings, error) {
	rec, err := salon.Settings(app)
	if err != nil {
		return DMSettings{}, err
	}
	s := DMSettings{Mode: rec.GetString("dm_mode")}
	if s.Mode == "" {
		s.Mode = "open"
	}
	for field, dst := range map[string]*salon.MinRank{
		"dm_member_min_rank":  &s.MemberMin,
		"dm_tutor_min_rank":   &s.TutorMin,
		"dm_receive_min_rank": &s.ReceiveMin,
	} {
		id := rec.GetString(field)
		if id == "" {
			continue
		}
		rank, err := salon.Rank(app, id)
		if err != nil {
			return s, fmt.Errorf("settings %s: %w", field, err)
		}
		*dst = salon.MinRank{Set: true, Level: rank.Level, Name: rank.Name}
	}
	return s, nil
}

// DMReadAccess says whether auth may read a message between sender and
// recipient (ids), and whether that read must be written to dm_audit: admins
// and superusers read every conversation for moderation, and a read by
// anyone who is not a party is audited. Per-side deletion is left to the
// collection rules.
func DMReadAccess(auth *core.Record, sender, recipient string) (allowed, audited bool) {
	if auth == nil {
		return false, false
	}
	party := salon.IsMember(auth) && (auth.Id == sender || auth.Id == recipient)
	if party {
		return true, false
	}
	if salon.IsAdmin(auth) {
		return true, true
	}
	return false, false
}

// DMEditableFields lists the fields userID may change on a message between
// sender and recipient: the sender only hides it for themselves, the
// recipient marks it read or unread and hides it for themselves. Nobody
// edits the content; admins moderate by deleting.
func DMEditableFields(userID, sender, recipient string) []string {
	switch userID {
	case "":
		return nil
	case recipient:
		return []string{"read_at", "recipient_deleted"}
	case sender:
		return []string{"sender_deleted"}
	}
	return nil
}
