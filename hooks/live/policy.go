package live

import (
	"fmt"

	"github.com/pocketbase/pocketbase/core"

	"salonbase/hooks/dm"
	"salonbase/hooks/salon"
)

// DecideBroadcast says whether user may go live: admins and tutors always;
// members when salon_settings.live_min_rank is set and their rank reaches
// it; never while suspended.
func DecideBroadcast(user dm.DMParty, min salon.MinRank) error {
	if user.Suspended {
		return salon.Deny("suspended", "Your account is suspended.")
	}
	if user.Role == salon.RoleAdmin || user.Role == salon.RoleTutor {
		return nil
	}
	if !min.Set {
		return salon.Deny("live_staff_only", "Live streaming is open to admins and tutors only.")
	}
	if user.RankLevel < min.Level {
		return salon.Deny("rank_too_low", "Going live needs the %s rank or above (yours: %s).", min.Name, user.RankName)
	}
	return nil
}

// CanBroadcast applies DecideBroadcast with the current settings.
func CanBroadcast(app core.App, user *core.Record) error {
	if user == nil || user.Collection().Name != "users" {
		return salon.Deny("not_member", "Only members can go live.")
	}
	p, err := dm.DmParty(app, user)
	if err != nil {
		return err
	}
	min, err := salon.SettingsMinRank(app, "live_min_rank")
	if err != nil {
		return err
	}
	return DecideBroadcast(p, min)
}

// DecideWatch says whether viewer may watch a stream with minimum rank min:
// its host and admins always; others by rank; never while suspended.
func DecideWatch(viewer dm.DMParty, isHost bool, min salon.MinRank) error {
	if viewer.Suspended {
		return salon.Deny("suspended", "Your account is suspended.")
	}
	if isHost || viewer.Role == salon.RoleAdmin || min.Allows(viewer.RankLevel) {
		return nil
	}
	return salon.Deny("rank_too_low", "This stream is for %s members and above (yours: %s).", min.Name, viewer.RankName)
}

// CanWatch applies DecideWatch to a live_streams record. The collection's
// list/view rules say the same for the records themselves.
func CanWatch(app core.App, viewer, stream *core.Record) error {
	if viewer == nil || viewer.Collection().Name != "users" {
		return salon.Deny("not_member", "Only members can watch live streams.")
	}
	p, err := dm.DmParty(app, viewer)
	if err != nil {
		return err
	}
	var min salon.MinRank
	if id := stream.GetString("min_rank"); id != "" {
		rank, err := app.FindRecordById("ranks", id)
		if err != nil {
			return fmt.Errorf("min_rank of stream %s: %w", stream.Id, err)
		}
		min = salon.MinRank{Set: true, Level: rank.GetInt("level"), Name: rank.GetString("name")}
	}
	return DecideWatch(p, stream.GetString("host") == viewer.Id, min)
}

// CanCall: who may call whom is the DM policy, so a refused
// call gets the same reason as a refused DM.
func CanCall(app core.App, caller, callee *core.Record) error {
	return dm.CanDM(app, caller, callee, false)
}
