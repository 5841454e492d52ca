package forum_test

import (
	"net/http"
	"strings"
	"testing"

	"salonbase/testutil"
)

// A member who lost access to a category (rank lowered) or a group board
// (banned) can no longer edit what they wrote there, and is no longer told
// of replies there (the notice carries the post's text).
func TestLostAccessStopsEditsAndReplyNotices(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	author := testutil.CreateUser(t, app, testutil.User{Name: "Author", Rank: "Gold"})
	replier := testutil.CreateUser(t, app, testutil.User{Name: "Replier", Rank: "Gold"})
	at, rt := testutil.Token(t, author), testutil.Token(t, replier)
	gold := testutil.NewCategory(t, app, "Gold lounge", map[string]any{"min_rank": testutil.RankID(t, app, "Gold")})

	topic := testutil.MustCreate(t, srv, testutil.TopicsURL, at, map[string]any{"category": gold.Id, "title": "Gold tips", "body": "first"})
	post := testutil.MustCreate(t, srv, testutil.PostsURL, at, map[string]any{"topic": topic["id"], "body": "my post"})
	testutil.MustCreate(t, srv, testutil.PostsURL, rt, map[string]any{"topic": topic["id"], "body": "reply while gold", "reply_to": post["id"]})
	if n := testutil.NoticesOf(t, app, author, "reply"); n != 1 {
		t.Fatalf("a reply while the author may read: %d notices, want 1", n)
	}

	// the author's rank is lowered
	author.Set("rank", testutil.RankID(t, app, "Free"))
	if err := app.Save(author); err != nil {
		t.Fatal(err)
	}
	testutil.MustCreate(t, srv, testutil.PostsURL, rt, map[string]any{"topic": topic["id"], "body": "SECRET gold reply", "reply_to": post["id"]})
	if n := testutil.NoticesOf(t, app, author, "reply"); n != 1 {
		t.Fatalf("a member below the category's rank was told of a reply: %d notices", n)
	}
	for _, c := range []struct{ url, field string }{
		{testutil.TopicsURL + "/" + topic["id"].(string), "title"},
		{testutil.PostsURL + "/" + post["id"].(string), "body"},
	} {
		status, body := srv.Do(t, http.MethodPatch, c.url, at, map[string]any{c.field: "edited after demotion"})
		if status < 400 || status >= 500 || strings.Contains(string(body), "first") || strings.Contains(string(body), "my post") {
			t.Errorf("edit after demotion %s: %d %s", c.url, status, body)
		}
	}
	if n := testutil.CountRecords(t, app, "forum_posts", testutil.DbxHash("body", "edited after demotion")); n != 0 {
		t.Fatal("an edit after demotion was saved")
	}

	// a group board: banned members lose edits and notices alike
	owner := testutil.CreateUser(t, app, testutil.User{})
	ot := testutil.Token(t, owner)
	member := testutil.CreateUser(t, app, testutil.User{})
	mt := testutil.Token(t, member)
	group := testutil.MustCreate(t, srv, testutil.GroupsURL, ot, map[string]any{"name": "Climbers", "theme": "hobby", "visibility": "open"})
	gid := group["id"].(string)
	testutil.WantStatus(t, srv, http.MethodPost, testutil.GroupAction(gid, "/join"), mt, nil, 200, "active")
	board := group["category"].(string)
	gTopic := testutil.MustCreate(t, srv, testutil.TopicsURL, mt, map[string]any{"category": board, "title": "Routes", "body": "board text"})
	testutil.WantStatus(t, srv, http.MethodPost, testutil.GroupAction(gid, "/members/"+member.Id+"/ban"), ot, nil, 200, "")
	testutil.MustCreate(t, srv, testutil.PostsURL, ot, map[string]any{"topic": gTopic["id"], "body": "after the ban"})
	if n := testutil.NoticesOf(t, app, member, "reply"); n != 0 {
		t.Fatalf("a banned member was told of a reply on the board: %d", n)
	}
	status, body := srv.Do(t, http.MethodPatch, testutil.TopicsURL+"/"+gTopic["id"].(string), mt, map[string]any{"body": "edited after the ban"})
	if status < 400 || status >= 500 || strings.Contains(string(body), "board text") {
		t.Fatalf("a banned member edits their board topic: %d %s", status, body)
	}
}
