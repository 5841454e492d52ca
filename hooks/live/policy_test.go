package live_test

import (
	"errors"
	"testing"

	"salonbase/hooks/dm"
	"salonbase/hooks/live"
	"salonbase/hooks/salon"
)

func TestDecideBroadcast(t *testing.T) {
	t.Parallel()
	silver := salon.MinRank{Set: true, Level: 20, Name: "Silver"}
	for _, c := range []struct {
		name string
		user dm.DMParty
		min  salon.MinRank
		code string // "" = allowed
	}{
		{"admin, no rank set", dm.DMParty{Role: salon.RoleAdmin}, salon.MinRank{}, ""},
		{"tutor, no rank set", dm.DMParty{Role: salon.RoleTutor}, salon.MinRank{}, ""},
		{"member, no rank set", dm.DMParty{Role: salon.RoleMember, RankLevel: 40}, salon.MinRank{}, "live_staff_only"},
		{"member at the rank", dm.DMParty{Role: salon.RoleMember, RankLevel: 20}, silver, ""},
		{"member below", dm.DMParty{Role: salon.RoleMember, RankLevel: 10, RankName: "Bronze"}, silver, "rank_too_low"},
		{"suspended tutor", dm.DMParty{Role: salon.RoleTutor, Suspended: true}, silver, "suspended"},
	} {
		assertDecision(t, c.name, live.DecideBroadcast(c.user, c.min), c.code)
	}
}

func TestDecideWatch(t *testing.T) {
	t.Parallel()
	gold := salon.MinRank{Set: true, Level: 30, Name: "Gold"}
	for _, c := range []struct {
		name   string
		viewer dm.DMParty
		host   bool
		min    salon.MinRank
		code   string
	}{
		{"open stream", dm.DMParty{Role: salon.RoleMember}, false, salon.MinRank{}, ""},
		{"at the rank", dm.DMParty{Role: salon.RoleMember, RankLevel: 30}, false, gold, ""},
		{"below the rank", dm.DMParty{Role: salon.RoleMember, RankLevel: 20}, false, gold, "rank_too_low"},
		{"the host", dm.DMParty{Role: salon.RoleMember}, true, gold, ""},
		{"an admin", dm.DMParty{Role: salon.RoleAdmin}, false, gold, ""},
		{"suspended", dm.DMParty{Role: salon.RoleMember, RankLevel: 40, Suspended: true}, false, salon.MinRank{}, "suspended"},
	} {
		assertDecision(t, c.name, live.DecideWatch(c.viewer, c.host, c.min), c.code)
	}
}

func assertDecision(t *testing.T, name string, err error, code string) {
	t.Helper()
	if code == "" {
		if err != nil {
			t.Errorf("%s: refused: %v", name, err)
		}
		return
	}
	var d *salon.Refusal
	if !errors.As(err, &d) || d.Code != code || d.Reason == "" {
		t.Errorf("%s: want denial %q, got %v", name, code, err)
	}
}
