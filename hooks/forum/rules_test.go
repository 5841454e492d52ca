package forum_test

import (
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"

	"salonbase/hooks/forum"
	"salonbase/testutil"
)

// The Go decision (forum.CanReadCategory, used by the hooks, search and
// profiles) and the forum_categories view rule must agree for every kind of
// caller and category, group boards included.
func TestCategoryReadPolicyMatchesRule(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	bronze := testutil.CreateUser(t, app, testutil.User{Rank: "Bronze"})
	gold := testutil.CreateUser(t, app, testutil.User{Rank: "Gold"})
	suspended := testutil.CreateUser(t, app, testutil.User{Rank: "Platinum", Suspended: true})
	tutor := testutil.CreateUser(t, app, testutil.User{Role: "tutor", Rank: "Bronze"})
	admin := testutil.CreateUser(t, app, testutil.User{Role: "admin", Rank: "Free"})
	owner := testutil.CreateUser(t, app, testutil.User{})
	active := testutil.CreateUser(t, app, testutil.User{})
	invited := testutil.CreateUser(t, app, testutil.User{})
	pending := testutil.CreateUser(t, app, testutil.User{})
	banned := testutil.CreateUser(t, app, testutil.User{})
	root := testutil.CreateSuperuser(t, app)

	open := testutil.NewCategory(t, app, "Open", nil)
	goldOnly := testutil.NewCategory(t, app, "Gold", map[string]any{"min_rank": testutil.RankID(t, app, "Gold")})
	news := testutil.NewCategory(t, app, "News", map[string]any{"admin_topics_only": true})
	boards := map[string]*core.Record{"open": open, "gold": goldOnly, "news": news}
	memberships, _ := app.FindCollectionByNameOrId("group_members")
	seen := map[bool]bool{} // the table must hold both answers
	for _, visibility := range []string{"open", "approval", "secret"} {
		group := testutil.MustCreate(t, srv, testutil.GroupsURL, testutil.Token(t, owner), map[string]any{"name": visibility + " group", "theme": "hobby", "visibility": visibility})
		for user, status := range map[*core.Record]string{active: "active", invited: "invited", pending: "pending", banned: "banned"} {
			if err := app.Save(testutil.NewRecord(memberships, map[string]any{"group": group["id"], "user": user.Id, "role": "member", "status": status})); err != nil {
				t.Fatal(err)
			}
		}
		board, err := app.FindRecordById("forum_categories", group["category"].(string))
		if err != nil {
			t.Fatal(err)
		}
		boards[visibility+" group board"] = board
	}
	guest := testutil.NewGuest(t, app, testutil.NewRoom(t, app, map[string]any{"allow_guests": true}), time.Hour)

	categories, err := app.FindCollectionByNameOrId("forum_categories")
	if err != nil {
		t.Fatal(err)
	}
	callers := map[string]*core.Record{
		"anonymous": nil, "superuser": root, "admin": admin, "tutor": tutor, "bronze": bronze, "gold": gold,
		"suspended": suspended, "group owner": owner, "active group member": active, "invited": invited,
		"pending": pending, "banned": banned, "guest": guest,
	}
	for boardName, cat := range boards {
		for callerName, caller := range callers {
			goAllows, err := forum.CanReadCategory(app, caller, cat)
			seen[goAllows] = true
			if err != nil {
				t.Fatalf("%s, %s: %v", boardName, callerName, err)
			}
			ruleAllows, err := app.CanAccessRecord(cat, &core.RequestInfo{Auth: caller, Method: "GET"}, categories.ViewRule)
			if err != nil {
				t.Fatalf("%s, %s: rule: %v", boardName, callerName, err)
			}
			if goAllows != ruleAllows {
				t.Errorf("%s, %s: Go says %v, the forum_categories rule says %v", boardName, callerName, goAllows, ruleAllows)
			}
		}
	}
	if !seen[true] || !seen[false] {
		t.Fatalf("the table must hold allowed and refused callers: %v", seen)
	}
}
