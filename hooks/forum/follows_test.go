package forum_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"

	"salonbase/hooks/salon"
	"salonbase/testutil"
)

const followsURL = "/api/collections/forum_follows/records"

// Following a topic or a category: allowed where the member may read,
// invisible (404) where not; each member sees and removes only their own.
func TestForumFollowRules(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	gold := testutil.CreateUser(t, app, testutil.User{Rank: "Gold"})
	free := testutil.CreateUser(t, app, testutil.User{})
	open := testutil.NewCategory(t, app, "General", nil)
	goldCat := testutil.NewCategory(t, app, "Gold", map[string]any{"min_rank": testutil.RankID(t, app, "Gold")})
	gt, ft := testutil.Token(t, gold), testutil.Token(t, free)
	goldTopic := testutil.MustCreate(t, srv, testutil.TopicsURL, gt, map[string]any{"category": goldCat.Id, "title": "Gold plans", "body": "x"})

	// allowed: a readable topic and a readable category, once each
	mine := testutil.MustCreate(t, srv, followsURL, gt, map[string]any{"topic": goldTopic["id"]})
	testutil.MustCreate(t, srv, followsURL, ft, map[string]any{"category": open.Id})
	testutil.WantStatus(t, srv, http.MethodPost, followsURL, gt, map[string]any{"topic": goldTopic["id"]}, 400, "")
	// forbidden: what the member cannot read is not found, and nothing is stored
	testutil.WantStatus(t, srv, http.MethodPost, followsURL, ft, map[string]any{"topic": goldTopic["id"]}, 404, "")
	testutil.WantStatus(t, srv, http.MethodPost, followsURL, ft, map[string]any{"category": goldCat.Id}, 404, "")
	// one of topic or category, and never in another member's name
	testutil.WantStatus(t, srv, http.MethodPost, followsURL, ft, map[string]any{}, 400, "Follow either a topic or a category")
	testutil.WantStatus(t, srv, http.MethodPost, followsURL, ft, map[string]any{"topic": goldTopic["id"], "category": open.Id}, 400, "")
	testutil.WantStatus(t, srv, http.MethodPost, followsURL, ft, map[string]any{"user": gold.Id, "category": open.Id}, 400, "")
	testutil.WantStatus(t, srv, http.MethodPost, followsURL, "", map[string]any{"category": open.Id}, 401, "Sign in as a member")
	if n := testutil.CountRecords(t, app, "forum_follows", nil); n != 2 {
		t.Fatalf("%d follows stored, want 2", n)
	}
	// each sees only their own, and cannot remove another's
	if n := testutil.CountItems(t, srv, followsURL, ft); n != 1 {
		t.Fatalf("the free member lists %d follows, want their 1", n)
	}
	testutil.WantStatus(t, srv, http.MethodDelete, followsURL+"/"+mine["id"].(string), ft, nil, 404, "")
	testutil.WantStatus(t, srv, http.MethodDelete, followsURL+"/"+mine["id"].(string), gt, nil, 204, "")
}

// A topic's followers hear of each reply and a category's followers of each
// new topic (kind forum_follow), once, and only while they may read it.
func TestForumFollowNotices(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	asker := testutil.CreateUser(t, app, testutil.User{Name: "Asker", Rank: "Gold"})
	helper := testutil.CreateUser(t, app, testutil.User{Name: "Helper", Rank: "Gold"})
	watcher := testutil.CreateUser(t, app, testutil.User{Rank: "Gold"})
	demoted := testutil.CreateUser(t, app, testutil.User{Rank: "Gold"})
	catFan := testutil.CreateUser(t, app, testutil.User{Rank: "Gold"})
	goldCat := testutil.NewCategory(t, app, "Gold", map[string]any{"min_rank": testutil.RankID(t, app, "Gold")})
	at, ht := testutil.Token(t, asker), testutil.Token(t, helper)
	topic := testutil.MustCreate(t, srv, testutil.TopicsURL, at, map[string]any{"category": goldCat.Id, "title": "Backups?", "body": "x"})
	for _, u := range []*core.Record{asker, helper, watcher, demoted} {
		testutil.MustCreate(t, srv, followsURL, testutil.Token(t, u), map[string]any{"topic": topic["id"]})
	}
	testutil.MustCreate(t, srv, followsURL, testutil.Token(t, catFan), map[string]any{"category": goldCat.Id})
	demoted.Set("rank", testutil.RankID(t, app, "Silver"))
	if err := app.Save(demoted); err != nil {
		t.Fatal(err)
	}

	rt := srv.Subscribe(t, testutil.Token(t, watcher), "notifications")
	testutil.MustCreate(t, srv, testutil.PostsURL, ht, map[string]any{"topic": topic["id"], "body": "Use VACUUM INTO"})
	for _, c := range []struct {
		who        *core.Record
		reply, fol int
	}{
		{asker, 1, 0},   // the topic's author gets the reply notice, not a second one
		{helper, 0, 0},  // not told of their own post
		{watcher, 0, 1}, // a follower
		{demoted, 0, 0}, // a follower who may no longer read the category
		{catFan, 0, 0},  // a category follower hears of new topics, not replies
	} {
		if r, f := testutil.NoticesOf(t, app, c.who, "reply"), testutil.NoticesOf(t, app, c.who, "forum_follow"); r != c.reply || f != c.fol {
			t.Fatalf("%s: reply %d forum_follow %d, want %d and %d", c.who.GetString("name"), r, f, c.reply, c.fol)
		}
	}
	if ev, ok := rt.Next(3e9); !ok || !contains(ev.Data, "forum_follow") {
		t.Fatalf("the follower is told live: %v %s", ok, ev.Data)
	}

	// a new topic in the category tells its followers, not its author
	testutil.MustCreate(t, srv, testutil.TopicsURL, ht, map[string]any{"category": goldCat.Id, "title": "Restores", "body": "y"})
	// a new topic's followers are told by a job that runs right after the commit
	salon.WaitBackground(app)
	for i := 0; i < 100 && testutil.NoticesOf(t, app, catFan, "forum_follow") == 0; i++ {
		time.Sleep(50 * time.Millisecond)
		salon.WaitBackground(app)
	}
	if n := testutil.NoticesOf(t, app, catFan, "forum_follow"); n != 1 {
		t.Fatalf("category follower: %d notices, want 1", n)
	}
	if n := testutil.NoticesOf(t, app, helper, "forum_follow"); n != 0 {
		t.Fatalf("the author of the new topic: %d notices, want 0", n)
	}
	n, err := app.FindFirstRecordByFilter("notifications", "user = {:u} && kind = 'forum_follow'", map[string]any{"u": catFan.Id})
	if err != nil || n.GetString("title") != `Helper posted in "Restores"` {
		t.Fatalf("category notice: %v %v", n, err)
	}
}

func contains(b []byte, s string) bool { return strings.Contains(string(b), s) }
