package hooks_test

import (
	"errors"
	"testing"

	"salonbase/hooks"
)

func TestDecideBroadcast(t *testing.T) {
	silver := hooks.MinRank{Set: true, Level: 20, Name: "Silver"}
	for _, c := range []struct {
		name string
		user hooks.DMParty
		min  hooks.MinRank
		code string // "" = allowed
	}{
		{"admin, no rank set", hooks.DMParty{Role: hooks.RoleAdmin}, hooks.MinRank{}, ""},
		{"tutor, no rank set", hooks.DMParty{Role: hooks.RoleTutor}, hooks.MinRank{}, ""},
		{"member, no rank set", hooks.DMParty{Role: hooks.RoleMember, RankLevel: 40}, hooks.MinRank{}, "live_staff_only"},
		{"member at the rank", hooks.DMParty{Role: hooks.RoleMember, RankLevel: 20}, silver, ""},
		{"member below", hooks.DMParty{Role: hooks.RoleMember, RankLevel: 10, RankName: "Bronze"}, silver, "rank_too_low"},
		{"suspended tutor", hooks.DMParty{Role: hooks.RoleTutor, Suspended: true}, silver, "suspended"},
	} {
		assertDecision(t, c.name, hooks.DecideBroadcast(c.user, c.min), c.code)
	}
}

func TestDecideWatch(t *testing.T) {
	gold := hooks.MinRank{Set: true, Level: 30, Name: "Gold"}
	for _, c := range []struct {
		name   string
		viewer hooks.DMParty
		host   bool
		min    hooks.MinRank
		code   string
	}{
		{"open stream", hooks.DMParty{Role: hooks.RoleMember}, false, hooks.MinRank{}, ""},
		{"at the rank", hooks.DMParty{Role: hooks.RoleMember, RankLevel: 30}, false, gold, ""},
		{"below the rank", hooks.DMParty{Role: hooks.RoleMember, RankLevel: 20}, false, gold, "rank_too_low"},
		{"the host", hooks.DMParty{Role: hooks.RoleMember}, true, gold, ""},
		{"an admin", hooks.DMParty{Role: hooks.RoleAdmin}, false, gold, ""},
		{"suspended", hooks.DMParty{Role: hooks.RoleMember, RankLevel: 40, Suspended: true}, false, hooks.MinRank{}, "suspended"},
	} {
		assertDecision(t, c.name, hooks.DecideWatch(c.viewer, c.host, c.min), c.code)
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
	var d *hooks.Refusal
	if !errors.As(err, &d) || d.Code != code || d.Reason == "" {
		t.Errorf("%s: want denial %q, got %v", name, code, err)
	}
}
