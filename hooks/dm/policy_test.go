package dm_test

import (
	"errors"
	"testing"

	"salonbase/hooks/dm"
	"salonbase/hooks/salon"
	"salonbase/testutil"
)

func TestDecideDM(t *testing.T) {
	t.Parallel()
	gold := salon.MinRank{Set: true, Level: 30, Name: "Gold"}
	platinum := salon.MinRank{Set: true, Level: 40, Name: "Platinum"}
	open := dm.DMSettings{Mode: "open", MemberMin: gold, TutorMin: platinum}

	member := func(level int) dm.DMParty { return dm.DMParty{Role: "member", RankLevel: level} }
	silver, goldM, plat := member(20), member(30), member(40)
	tutor := dm.DMParty{Role: "tutor", RankLevel: 0}
	admin := dm.DMParty{Role: "admin", RankLevel: 0}
	suspended := dm.DMParty{Role: "member", RankLevel: 40, Suspended: true}

	cases := []struct {
		name       string
		settings   dm.DMSettings
		s, r       dm.DMParty
		blocked    bool
		replying   bool
		wantDenied string // "" = allowed
	}{
		{"silver cannot DM a member", open, silver, goldM, false, false, "rank_too_low"},
		{"gold DMs a member", open, goldM, silver, false, false, ""},
		{"gold cannot DM a tutor", open, goldM, tutor, false, false, "rank_too_low"},
		{"platinum DMs a tutor", open, plat, tutor, false, false, ""},
		{"anyone DMs an admin", open, member(0), admin, false, false, ""},
		{"tutor DMs a student", open, tutor, member(0), false, false, ""},
		{"tutor DMs a tutor", open, tutor, tutor, false, false, ""},
		{"admin DMs anyone", open, admin, member(0), false, false, ""},
		{"admin_only blocks member to member", dm.DMSettings{Mode: "admin_only"}, plat, goldM, false, false, "admin_only"},
		{"admin_only still reaches the admin", dm.DMSettings{Mode: "admin_only"}, member(0), admin, false, false, ""},
		{"admin_only blocks member to tutor", dm.DMSettings{Mode: "admin_only"}, plat, tutor, false, false, "admin_only"},
		{"off blocks members", dm.DMSettings{Mode: "off"}, plat, admin, false, false, "dm_off"},
		{"off lets admins write", dm.DMSettings{Mode: "off"}, admin, silver, false, false, ""},
		{"off lets a member answer an admin", dm.DMSettings{Mode: "off"}, silver, admin, false, true, ""},
		{"off refuses a reply to a member", dm.DMSettings{Mode: "off"}, silver, goldM, false, true, "dm_off"},
		{"silver replies to a tutor", open, silver, tutor, false, true, ""},
		{"silver replies to a gold member", open, silver, goldM, false, true, ""},
		{"blocked sender is refused", open, plat, goldM, true, false, "blocked"},
		{"blocked reply is refused", open, plat, goldM, true, true, "blocked"},
		{"admins ignore blocks", open, admin, goldM, true, false, ""},
		{"suspended sender", open, suspended, admin, false, false, "suspended"},
		{"suspended recipient", open, admin, suspended, false, false, "recipient_suspended"},
		{"receive minimum", dm.DMSettings{Mode: "open", ReceiveMin: gold}, plat, silver, false, false, "recipient_rank_too_low"},
		{"no minimums: free member DMs a member", dm.DMSettings{Mode: "open"}, member(0), member(0), false, false, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := dm.DecideDM(c.settings, c.s, c.r, c.blocked, c.replying)
			if c.wantDenied == "" {
				if err != nil {
					t.Fatalf("want allowed, got %v", err)
				}
				return
			}
			var d *salon.Refusal
			if !errors.As(err, &d) || d.Code != c.wantDenied {
				t.Fatalf("want denied %q, got %v", c.wantDenied, err)
			}
			if d.Reason == "" {
				t.Fatal("a denial must say why")
			}
		})
	}
}

func TestCanDMReadsSettingsAndBlocksLive(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	silver := testutil.CreateUser(t, app, testutil.User{Rank: "Silver"})
	gold := testutil.CreateUser(t, app, testutil.User{Rank: "Gold"})

	if err := dm.CanDM(app, silver, gold, false); err != nil {
		t.Fatalf("no minimum set yet: %v", err)
	}
	testutil.UpdateSettings(t, app, map[string]any{"dm_member_min_rank": testutil.RankID(t, app, "Gold")})
	if err := dm.CanDM(app, silver, gold, false); err == nil {
		t.Fatal("settings change must apply to the next decision")
	}
	if err := dm.CanDM(app, gold, silver, false); err != nil {
		t.Fatalf("gold may DM: %v", err)
	}

	// silver blocks gold
	blocks, _ := app.FindCollectionByNameOrId("blocks")
	b := testutil.NewRecord(blocks, map[string]any{"user": silver.Id, "blocked": gold.Id})
	if err := app.Save(b); err != nil {
		t.Fatal(err)
	}
	var d *salon.Refusal
	if err := dm.CanDM(app, gold, silver, false); !errors.As(err, &d) || d.Code != "blocked" {
		t.Fatalf("want blocked, got %v", err)
	}
	if err := dm.CanDM(app, gold, gold, false); !errors.As(err, &d) || d.Code != "self" {
		t.Fatalf("want self, got %v", err)
	}
}

func TestHasRank(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	silver := testutil.CreateUser(t, app, testutil.User{Rank: "Silver"})
	admin := testutil.CreateUser(t, app, testutil.User{Role: "admin"})
	suspended := testutil.CreateUser(t, app, testutil.User{Rank: "Platinum", Suspended: true})
	gold := testutil.RankID(t, app, "Gold")
	bronze := testutil.RankID(t, app, "Bronze")

	for _, c := range []struct {
		name string
		ok   bool
		got  func() (bool, error)
	}{
		{"silver >= bronze", true, func() (bool, error) { return salon.HasRank(app, silver, bronze) }},
		{"silver < gold", false, func() (bool, error) { return salon.HasRank(app, silver, gold) }},
		{"no minimum", true, func() (bool, error) { return salon.HasRank(app, silver, "") }},
		{"admin always", true, func() (bool, error) { return salon.HasRank(app, admin, gold) }},
		{"suspended never", false, func() (bool, error) { return salon.HasRank(app, suspended, bronze) }},
	} {
		ok, err := c.got()
		if err != nil || ok != c.ok {
			t.Errorf("%s: got %v, %v; want %v", c.name, ok, err, c.ok)
		}
	}

	// renaming and re-levelling ranks in the dashboard changes the order
	goldRec, _ := app.FindRecordById("ranks", gold)
	goldRec.Set("level", 15)
	if err := app.Save(goldRec); err != nil {
		t.Fatal(err)
	}
	if ok, _ := salon.HasRank(app, silver, gold); !ok {
		t.Fatal("silver (20) must now pass a minimum of level 15")
	}
}
