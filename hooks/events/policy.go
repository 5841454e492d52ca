package events

import (
	"github.com/pocketbase/pocketbase/core"

	"salonbase/hooks/salon"
)

// CanCreateEvent decides who may organize events: superusers, admins and
// tutors always; other members when salon_settings.event_create_min_rank is
// set and their rank reaches it. Suspended members never.
func CanCreateEvent(app core.App, user *core.Record) error {
	if user != nil && user.IsSuperuser() {
		return nil
	}
	if !salon.IsMember(user) {
		return salon.Deny("not_member", "Only members can create events.")
	}
	if salon.IsAdmin(user) || salon.IsTutor(user) {
		return nil
	}
	s, err := salon.Settings(app)
	if err != nil {
		return err
	}
	min := s.GetString("event_create_min_rank")
	if min == "" {
		return salon.Deny("organizers_only", "Only admins and tutors can create events in this salon.")
	}
	ok, err := salon.HasRank(app, user, min)
	if err != nil {
		return err
	}
	if !ok {
		return salon.Deny("rank_too_low", "Your rank cannot create events yet.")
	}
	return nil
}

// CanManageEvent reports whether auth may edit event, see its attendees and
// export them: admins and the organizer.
func CanManageEvent(auth, event *core.Record) bool {
	if salon.IsAdmin(auth) {
		return true
	}
	return salon.IsMember(auth) && event.GetString("organizer") == auth.Id
}
