package events_test

import (
	"errors"
	"testing"

	"github.com/pocketbase/pocketbase/core"

	"salonbase/hooks/events"
	"salonbase/hooks/salon"
	"salonbase/testutil"
)

func TestCanCreateEvent(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	admin := testutil.CreateUser(t, app, testutil.User{Role: "admin"})
	tutor := testutil.CreateUser(t, app, testutil.User{Role: "tutor"})
	gold := testutil.CreateUser(t, app, testutil.User{Rank: "Gold"})
	silver := testutil.CreateUser(t, app, testutil.User{Rank: "Silver"})
	suspendedTutor := testutil.CreateUser(t, app, testutil.User{Role: "tutor", Suspended: true})
	guests, err := app.FindCollectionByNameOrId("guests")
	if err != nil {
		t.Fatal(err)
	}
	guest := core.NewRecord(guests)

	check := func(name string, user *core.Record, wantCode string) {
		t.Helper()
		err := events.CanCreateEvent(app, user)
		var d *salon.Refusal
		switch {
		case wantCode == "" && err != nil:
			t.Fatalf("%s: denied %v", name, err)
		case wantCode != "" && (!errors.As(err, &d) || d.Code != wantCode):
			t.Fatalf("%s: got %v, want %s", name, err, wantCode)
		}
	}
	check("admin", admin, "")
	check("tutor", tutor, "")
	check("member, no event rank set", gold, "organizers_only")
	check("suspended tutor", suspendedTutor, "not_member")
	check("guest", guest, "not_member")
	check("nobody", nil, "not_member")
	testutil.UpdateSettings(t, app, map[string]any{"event_create_min_rank": testutil.RankID(t, app, "Gold")})
	check("gold with min Gold", gold, "")
	check("silver with min Gold", silver, "rank_too_low")

	ev := core.NewRecord(core.NewBaseCollection("events"))
	ev.Set("organizer", tutor.Id)
	bySuspended := core.NewRecord(core.NewBaseCollection("events"))
	bySuspended.Set("organizer", suspendedTutor.Id)
	for name, c := range map[string]struct {
		who, ev *core.Record
		want    bool
	}{
		"admin":               {admin, ev, true},
		"organizer":           {tutor, ev, true},
		"another member":      {gold, ev, false},
		"suspended organizer": {suspendedTutor, bySuspended, false},
		"nobody":              {nil, ev, false},
	} {
		if got := events.CanManageEvent(c.who, c.ev); got != c.want {
			t.Fatalf("CanManageEvent %s = %v", name, got)
		}
	}
}
