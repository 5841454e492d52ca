package forum_test

import (
	"errors"
	"slices"
	"sort"
	"testing"

	"github.com/pocketbase/pocketbase/core"

	"salonbase/hooks/forum"
	"salonbase/hooks/salon"
	"salonbase/testutil"
)

// The forum and group decisions of policy.go, called directly; the HTTP
// tests in forum_test.go and groups_test.go check the rules agree.
func TestForumAccessDecisions(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	free := testutil.CreateUser(t, app, testutil.User{})
	silver := testutil.CreateUser(t, app, testutil.User{Rank: "Silver"})
	gold := testutil.CreateUser(t, app, testutil.User{Rank: "Gold"})
	admin := testutil.CreateUser(t, app, testutil.User{Role: "admin"})
	suspended := testutil.CreateUser(t, app, testutil.User{Rank: "Platinum", Suspended: true})
	banned := testutil.CreateUser(t, app, testutil.User{})

	groupsC, _ := app.FindCollectionByNameOrId("groups")
	group := testutil.NewRecord(groupsC, map[string]any{"name": "G", "theme": "hobby", "visibility": "secret", "owner": gold.Id})
	if err := app.Save(group); err != nil {
		t.Fatal(err)
	}
	membersC, _ := app.FindCollectionByNameOrId("group_members")
	for user, status := range map[string]string{gold.Id: "active", banned.Id: "banned", silver.Id: "invited"} {
		role := "member"
		if user == gold.Id {
			role = "owner"
		}
		if err := app.Save(testutil.NewRecord(membersC, map[string]any{"group": group.Id, "user": user, "role": role, "status": status})); err != nil {
			t.Fatal(err)
		}
	}

	open := testutil.NewCategory(t, app, "Open", nil)
	goldCat := testutil.NewCategory(t, app, "Gold", map[string]any{"min_rank": testutil.RankID(t, app, "Gold")})
	silverPost := testutil.NewCategory(t, app, "Silver posts", map[string]any{"post_min_rank": testutil.RankID(t, app, "Silver")})
	news := testutil.NewCategory(t, app, "News", map[string]any{"admin_topics_only": true})
	board := testutil.NewCategory(t, app, "Board", map[string]any{"group": group.Id})
	// a category whose minimum rank was deleted stays closed to members
	ranksC, _ := app.FindCollectionByNameOrId("ranks")
	temp := testutil.NewRecord(ranksC, map[string]any{"name": "Temp", "level": 5})
	if err := app.Save(temp); err != nil {
		t.Fatal(err)
	}
	orphan := testutil.NewCategory(t, app, "Orphan", map[string]any{"min_rank": temp.Id})
	if _, err := app.DB().NewQuery("DELETE FROM ranks WHERE id = {:id}").Bind(map[string]any{"id": temp.Id}).Execute(); err != nil {
		t.Fatal(err)
	}
	cats := []*core.Record{open, goldCat, silverPost, news, board, orphan}

	read := map[*core.Record][]string{
		free:      {open.Id, silverPost.Id, news.Id},
		silver:    {open.Id, silverPost.Id, news.Id},
		gold:      {open.Id, goldCat.Id, silverPost.Id, news.Id, board.Id},
		admin:     {open.Id, goldCat.Id, silverPost.Id, news.Id, board.Id, orphan.Id},
		suspended: nil,
		banned:    {open.Id, silverPost.Id, news.Id},
		nil:       nil,
	}
	for user, want := range read {
		got, err := forum.ReadableCategoryIDs(app, user)
		if err != nil {
			t.Fatal(err)
		}
		sort.Strings(got)
		sort.Strings(want)
		if len(got) != len(want) {
			t.Fatalf("%v reads %v, want %v", name(user), got, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%v reads %v, want %v", name(user), got, want)
			}
		}
		// the one-query list agrees with the per-category decision, and so
		// does the batch decision over users
		for _, c := range cats {
			if user != nil && c != orphan {
				readers, err := forum.CategoryReaders(app, c, []string{user.Id})
				if err != nil {
					t.Fatal(err)
				}
				if inList := len(readers) == 1; inList != slices.Contains(want, c.Id) {
					t.Fatalf("CategoryReaders(%s, %s) = %v, want %v", c.GetString("name"), name(user), readers, !inList)
				}
			}
			ok, err := forum.CanReadCategory(app, user, c)
			if err != nil && c != orphan {
				t.Fatal(err)
			}
			in := false
			for _, id := range want {
				in = in || id == c.Id
			}
			if ok != in {
				t.Fatalf("CanReadCategory(%s, %s) = %v, list says %v", name(user), c.GetString("name"), ok, in)
			}
		}
	}

	deniedCode := func(err error) string {
		var d *salon.Refusal
		if errors.As(err, &d) {
			return d.Code
		}
		if err != nil {
			return "error: " + err.Error()
		}
		return ""
	}
	for _, c := range []struct {
		user    *core.Record
		cat     *core.Record
		opening bool
		want    string
	}{
		{free, goldCat, false, "rank_too_low"},
		{gold, goldCat, true, ""},
		{free, silverPost, true, "rank_too_low"},
		{silver, silverPost, true, ""},
		{gold, news, true, "admin_topics_only"},
		{gold, news, false, ""},
		{admin, news, true, ""},
		{banned, board, false, "banned"},
		{silver, board, false, "not_group_member"},
		{gold, board, true, ""},
		{suspended, open, false, "not_member"},
	} {
		if got := deniedCode(forum.CanPostInCategory(app, c.user, c.cat, c.opening)); got != c.want {
			t.Errorf("CanPostInCategory(%s, %s, opening=%v) = %q, want %q", name(c.user), c.cat.GetString("name"), c.opening, got, c.want)
		}
	}

	for user, want := range map[*core.Record]bool{free: false, silver: true, gold: true, banned: false, admin: true, suspended: false} {
		if ok, err := forum.CanSeeGroup(app, user, group); err != nil || ok != want {
			t.Errorf("CanSeeGroup(%s) = %v %v, want %v", name(user), ok, err, want)
		}
	}
	for user, want := range map[*core.Record]bool{gold: true, admin: true, silver: false, banned: false, free: false} {
		if ok, err := forum.CanManageGroup(app, user, group); err != nil || ok != want {
			t.Errorf("CanManageGroup(%s) = %v %v, want %v", name(user), ok, err, want)
		}
	}
	if m, err := forum.GroupRole(app, group.Id, gold.Id); err != nil || m.Role != "owner" || !m.Manages() {
		t.Errorf("GroupRole(owner) = %+v %v", m, err)
	}
	if m, err := forum.GroupRole(app, group.Id, free.Id); err != nil || m != (forum.Membership{}) {
		t.Errorf("GroupRole(stranger) = %+v %v", m, err)
	}
}

func name(u *core.Record) string {
	if u == nil {
		return "anonymous"
	}
	return u.GetString("name")
}
