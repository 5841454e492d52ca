package forum_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"

	"salonbase/hooks/salon"
	"salonbase/testutil"
)

func TestForumCategoriesByRank(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	free := testutil.CreateUser(t, app, testutil.User{})
	gold := testutil.CreateUser(t, app, testutil.User{Rank: "Gold"})
	admin := testutil.CreateUser(t, app, testutil.User{Role: "admin"})
	suspended := testutil.CreateUser(t, app, testutil.User{Rank: "Platinum", Suspended: true})

	open := testutil.NewCategory(t, app, "General", map[string]any{"sort": 1})
	goldCat := testutil.NewCategory(t, app, "Gold lounge", map[string]any{"min_rank": testutil.RankID(t, app, "Gold"), "sort": 2})
	news := testutil.NewCategory(t, app, "News", map[string]any{"admin_topics_only": true, "sort": 3})
	silverPost := testutil.NewCategory(t, app, "Experts", map[string]any{"post_min_rank": testutil.RankID(t, app, "Silver"), "sort": 4})
	ft, gt, at := testutil.Token(t, free), testutil.Token(t, gold), testutil.Token(t, admin)

	// reading: the rank decides which categories a member sees
	for name, c := range map[string]struct {
		token string
		want  []string
	}{
		"free":      {ft, []string{open.Id, news.Id, silverPost.Id}},
		"gold":      {gt, []string{open.Id, goldCat.Id, news.Id, silverPost.Id}},
		"admin":     {at, []string{open.Id, goldCat.Id, news.Id, silverPost.Id}},
		"anonymous": {"", nil},
	} {
		_, body := srv.Do(t, http.MethodGet, testutil.CatsURL+"?sort=sort", c.token, nil)
		got := testutil.Decode[testutil.List[map[string]any]](t, body)
		if len(got.Items) != len(c.want) {
			t.Fatalf("%s sees %d categories, want %d: %s", name, len(got.Items), len(c.want), body)
		}
		for i, id := range c.want {
			if got.Items[i]["id"] != id {
				t.Fatalf("%s: category %d is %v, want %s", name, i, got.Items[i]["name"], id)
			}
		}
	}
	if status, _ := srv.Do(t, http.MethodGet, testutil.CatsURL, testutil.Token(t, suspended), nil); status == http.StatusOK {
		t.Fatal("a suspended member must not read the forum")
	}
	testutil.WantStatus(t, srv, http.MethodGet, testutil.CatsURL+"/"+goldCat.Id, ft, nil, 404, "")
	// members do not make categories
	testutil.WantStatus(t, srv, http.MethodPost, testutil.CatsURL, gt, map[string]any{"name": "Mine"}, 403, `"code":"admins_only"`)
	testutil.MustCreate(t, srv, testutil.CatsURL, at, map[string]any{"name": "Made by an admin member"})

	// writing: a clear 403 that says which rank is needed
	testutil.WantStatus(t, srv, http.MethodPost, testutil.TopicsURL, ft, map[string]any{"category": goldCat.Id, "title": "Hi", "body": "x"}, 403, "Gold")
	topic := testutil.MustCreate(t, srv, testutil.TopicsURL, gt, map[string]any{"category": goldCat.Id, "title": "Gold only", "body": "secret tips", "author": gold.Id})
	if topic["author"] != gold.Id || topic["post_count"] != float64(0) || topic["last_post_at"] == "" {
		t.Fatalf("new topic: %v", topic)
	}
	testutil.WantStatus(t, srv, http.MethodGet, testutil.TopicsURL+"/"+topic["id"].(string), ft, nil, 404, "")
	_, body := srv.Do(t, http.MethodGet, testutil.TopicsURL, ft, nil)
	if testutil.Decode[testutil.List[map[string]any]](t, body).TotalItems != 0 {
		t.Fatalf("a free member lists a gold topic: %s", body)
	}
	testutil.WantStatus(t, srv, http.MethodPost, testutil.PostsURL, ft, map[string]any{"topic": topic["id"], "body": "let me in"}, 403, "Gold")
	reply := testutil.MustCreate(t, srv, testutil.PostsURL, gt, map[string]any{"topic": topic["id"], "body": "gold reply"})
	testutil.WantStatus(t, srv, http.MethodGet, testutil.PostsURL+"/"+reply["id"].(string), ft, nil, 404, "")
	_, body = srv.Do(t, http.MethodGet, testutil.PostsURL, ft, nil)
	if testutil.Decode[testutil.List[map[string]any]](t, body).TotalItems != 0 {
		t.Fatalf("a free member lists a gold post: %s", body)
	}

	// an author cannot be forged, nor can a suspended member post
	testutil.WantStatus(t, srv, http.MethodPost, testutil.TopicsURL, ft, map[string]any{"category": open.Id, "title": "x", "body": "x", "author": gold.Id}, 403, `"code":"not_yours"`)
	if status, _ := srv.Do(t, http.MethodPost, testutil.TopicsURL, testutil.Token(t, suspended), map[string]any{"category": open.Id, "title": "x", "body": "x"}); status == http.StatusOK {
		t.Fatal("a suspended member opened a topic")
	}
	testutil.WantStatus(t, srv, http.MethodPost, testutil.TopicsURL, "", map[string]any{"category": open.Id, "title": "x", "body": "x"}, 401, `"code":"login"`)

	// announcements: admins open topics, members reply
	testutil.WantStatus(t, srv, http.MethodPost, testutil.TopicsURL, gt, map[string]any{"category": news.Id, "title": "x", "body": "x"}, 403, "Only admins")
	ann := testutil.MustCreate(t, srv, testutil.TopicsURL, at, map[string]any{"category": news.Id, "title": "Welcome", "body": "Hello all", "pinned": true})
	if ann["pinned"] != true {
		t.Fatalf("an admin pins on creation: %v", ann)
	}
	testutil.MustCreate(t, srv, testutil.PostsURL, ft, map[string]any{"topic": ann["id"], "body": "thanks"})

	// a stricter rank to write than to read
	testutil.WantStatus(t, srv, http.MethodPost, testutil.TopicsURL, ft, map[string]any{"category": silverPost.Id, "title": "x", "body": "x"}, 403, "Silver")
	testutil.MustCreate(t, srv, testutil.TopicsURL, gt, map[string]any{"category": silverPost.Id, "title": "Ask the experts", "body": "x"})
	if _, body := srv.Do(t, http.MethodGet, testutil.TopicsURL+"?filter="+testutil.Urlq("category='"+silverPost.Id+"'"), ft, nil); testutil.Decode[testutil.List[map[string]any]](t, body).TotalItems != 1 {
		t.Fatalf("a free member still reads the experts category: %s", body)
	}

	// members cannot pin, lock or move; their pinned flag on create is dropped
	mine := testutil.MustCreate(t, srv, testutil.TopicsURL, ft, map[string]any{"category": open.Id, "title": "Mine", "body": "x", "pinned": true, "locked": true, "post_count": 99})
	if mine["pinned"] != false || mine["locked"] != false || mine["post_count"] != float64(0) {
		t.Fatalf("member-set flags kept: %v", mine)
	}
	mineURL := testutil.TopicsURL + "/" + mine["id"].(string)
	testutil.WantStatus(t, srv, http.MethodPatch, mineURL, ft, map[string]any{"pinned": true}, 403, "Only admins")
	testutil.WantStatus(t, srv, http.MethodPatch, mineURL, ft, map[string]any{"category": news.Id}, 403, "Only admins")
	testutil.WantStatus(t, srv, http.MethodPatch, mineURL, gt, map[string]any{"title": "hijack"}, 403, `"code":"not_yours"`)
	edited := testutil.Decode[map[string]any](t, testutil.WantStatus(t, srv, http.MethodPatch, mineURL, ft, map[string]any{"title": "Mine, edited", "tags": []string{" Go ", "#golang", "go"}}, 200, ""))
	if edited["title"] != "Mine, edited" || fmt.Sprint(edited["tags"]) != "[go golang]" {
		t.Fatalf("author edit: %v", edited)
	}
	moved := testutil.Decode[map[string]any](t, testutil.WantStatus(t, srv, http.MethodPatch, mineURL, at, map[string]any{"pinned": true, "category": goldCat.Id}, 200, ""))
	if moved["pinned"] != true || moved["category"] != goldCat.Id {
		t.Fatalf("admin pin+move: %v", moved)
	}
	// moved into the gold lounge: its free author no longer sees it
	testutil.WantStatus(t, srv, http.MethodGet, mineURL, ft, nil, 404, "")
	testutil.WantStatus(t, srv, http.MethodPost, testutil.TopicsURL, ft, map[string]any{"category": open.Id, "title": "x", "body": "x", "tags": "nope"}, 400, "list of strings")
}

func TestForumLockedTopic(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	author := testutil.CreateUser(t, app, testutil.User{})
	other := testutil.CreateUser(t, app, testutil.User{})
	admin := testutil.CreateUser(t, app, testutil.User{Role: "admin"})
	au, ot, at := testutil.Token(t, author), testutil.Token(t, other), testutil.Token(t, admin)
	cat := testutil.NewCategory(t, app, "General", nil)

	topic := testutil.MustCreate(t, srv, testutil.TopicsURL, au, map[string]any{"category": cat.Id, "title": "Heated", "body": "x"})
	early := testutil.MustCreate(t, srv, testutil.PostsURL, au, map[string]any{"topic": topic["id"], "body": "first"})
	topicURL := testutil.TopicsURL + "/" + topic["id"].(string)

	testutil.WantStatus(t, srv, http.MethodPatch, topicURL, au, map[string]any{"locked": true}, 403, "Only admins")
	testutil.WantStatus(t, srv, http.MethodPatch, topicURL, at, map[string]any{"locked": true}, 200, "")

	for name, token := range map[string]string{"author": au, "other": ot} {
		body := testutil.WantStatus(t, srv, http.MethodPost, testutil.PostsURL, token, map[string]any{"topic": topic["id"], "body": "more"}, 403, "locked")
		if testutil.Decode[testutil.ApiError](t, body).Status != 403 {
			t.Fatalf("%s: %s", name, body)
		}
	}
	testutil.WantStatus(t, srv, http.MethodPatch, topicURL, au, map[string]any{"title": "Calm"}, 403, "locked")
	testutil.WantStatus(t, srv, http.MethodPatch, testutil.PostsURL+"/"+early["id"].(string), au, map[string]any{"body": "rewritten"}, 403, "locked")
	testutil.MustCreate(t, srv, testutil.PostsURL, at, map[string]any{"topic": topic["id"], "body": "Locked by the moderators."})

	got := testutil.Decode[map[string]any](t, testutil.WantStatus(t, srv, http.MethodGet, topicURL, ot, nil, 200, ""))
	if got["post_count"] != float64(2) {
		t.Fatalf("locked topic keeps its posts: %v", got)
	}
	testutil.WantStatus(t, srv, http.MethodPatch, topicURL, at, map[string]any{"locked": false}, 200, "")
	testutil.MustCreate(t, srv, testutil.PostsURL, ot, map[string]any{"topic": topic["id"], "body": "unlocked again"})
}

func TestForumRepliesQuotesAnswers(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	asker := testutil.CreateUser(t, app, testutil.User{Name: "Asker"})
	helper := testutil.CreateUser(t, app, testutil.User{Name: "Helper"})
	other := testutil.CreateUser(t, app, testutil.User{})
	admin := testutil.CreateUser(t, app, testutil.User{Role: "admin"})
	as, ht, ot, at := testutil.Token(t, asker), testutil.Token(t, helper), testutil.Token(t, other), testutil.Token(t, admin)
	cat := testutil.NewCategory(t, app, "Questions", nil)

	q := testutil.MustCreate(t, srv, testutil.TopicsURL, as, map[string]any{"category": cat.Id, "title": "How do I deploy?", "body": "Help", "question": true, "tags": []string{"Deploy"}})
	elsewhere := testutil.MustCreate(t, srv, testutil.TopicsURL, ot, map[string]any{"category": cat.Id, "title": "Other", "body": "x"})
	otherPost := testutil.MustCreate(t, srv, testutil.PostsURL, ot, map[string]any{"topic": elsewhere["id"], "body": "unrelated"})

	answer := testutil.MustCreate(t, srv, testutil.PostsURL, ht, map[string]any{"topic": q["id"], "body": "Use the binary."})
	quote := testutil.MustCreate(t, srv, testutil.PostsURL, as, map[string]any{"topic": q["id"], "body": "Which flags?", "reply_to": answer["id"], "quote": "Use the binary."})
	if quote["reply_to"] != answer["id"] || quote["quote"] != "Use the binary." {
		t.Fatalf("reply with quote: %v", quote)
	}
	testutil.WantStatus(t, srv, http.MethodPost, testutil.PostsURL, as, map[string]any{"topic": q["id"], "body": "x", "reply_to": otherPost["id"]}, 400, "same topic")
	testutil.WantStatus(t, srv, http.MethodPost, testutil.PostsURL, as, map[string]any{"topic": q["id"], "body": "x", "quote": "out of nowhere"}, 400, "reply_to")
	testutil.WantStatus(t, srv, http.MethodPost, testutil.PostsURL, as, map[string]any{"topic": "nope", "body": "x"}, 404, "")

	// the helper hears about the reply to their post; the asker about the answer
	for user, kinds := range map[string]int{helper.Id: 1, asker.Id: 1} {
		n, err := app.CountRecords("notifications", testutil.DbxHash("user", user), testutil.DbxHash("kind", "reply"))
		if err != nil || int(n) != kinds {
			t.Fatalf("reply notifications of %s: %d %v", user, n, err)
		}
	}

	// best answer: only the topic author or an admin, only a post of this topic
	qURL := testutil.TopicsURL + "/" + q["id"].(string)
	testutil.WantStatus(t, srv, http.MethodPatch, qURL, ht, map[string]any{"answer": answer["id"]}, 403, `"code":"not_yours"`)
	testutil.WantStatus(t, srv, http.MethodPatch, qURL, as, map[string]any{"answer": otherPost["id"]}, 400, "this topic")
	solved := testutil.Decode[map[string]any](t, testutil.WantStatus(t, srv, http.MethodPatch, qURL, as, map[string]any{"answer": answer["id"]}, 200, ""))
	if solved["answer"] != answer["id"] || solved["post_count"] != float64(2) {
		t.Fatalf("solved: %v", solved)
	}
	testutil.WantStatus(t, srv, http.MethodPatch, qURL, at, map[string]any{"answer": quote["id"]}, 200, "")
	testutil.WantStatus(t, srv, http.MethodPatch, qURL, as, map[string]any{"answer": answer["id"]}, 200, "")

	// tags filter through the stock list API
	_, body := srv.Do(t, http.MethodGet, testutil.TopicsURL+"?filter="+testutil.Urlq(`tags ~ '"deploy"'`), ot, nil)
	if got := testutil.Decode[testutil.List[map[string]any]](t, body); got.TotalItems != 1 || got.Items[0]["id"] != q["id"] {
		t.Fatalf("tag filter: %s", body)
	}

	// editing marks the post; others cannot edit it; deleting the answer unmarks the topic
	edited := testutil.Decode[map[string]any](t, testutil.WantStatus(t, srv, http.MethodPatch, testutil.PostsURL+"/"+answer["id"].(string), ht, map[string]any{"body": "Use the single binary."}, 200, ""))
	if edited["edited_at"] == "" {
		t.Fatalf("edited_at not set: %v", edited)
	}
	testutil.WantStatus(t, srv, http.MethodPatch, testutil.PostsURL+"/"+answer["id"].(string), ot, map[string]any{"body": "vandal"}, 403, `"code":"not_yours"`)
	testutil.WantStatus(t, srv, http.MethodPatch, testutil.PostsURL+"/"+answer["id"].(string), ht, map[string]any{"topic": elsewhere["id"]}, 400, "")
	testutil.WantStatus(t, srv, http.MethodDelete, testutil.PostsURL+"/"+answer["id"].(string), ot, nil, 403, `"code":"not_yours"`)
	testutil.WantStatus(t, srv, http.MethodDelete, testutil.PostsURL+"/"+answer["id"].(string), ht, nil, 204, "")
	after := testutil.Decode[map[string]any](t, testutil.WantStatus(t, srv, http.MethodGet, qURL, ot, nil, 200, ""))
	if after["answer"] != "" || after["post_count"] != float64(1) {
		t.Fatalf("after deleting the answer: %v", after)
	}
	// an author deletes their own topic only while nobody replied
	testutil.WantStatus(t, srv, http.MethodDelete, qURL, as, nil, 403, `"code":"topic_has_replies"`)
	testutil.WantStatus(t, srv, http.MethodDelete, qURL, at, nil, 204, "")
}

// Concurrent replies over real HTTP: the counters end equal to the posts,
// also while the author keeps saving the topic (a stale record save).
func TestForumCountersUnderConcurrency(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	cat := testutil.NewCategory(t, app, "General", nil)
	author := testutil.CreateUser(t, app, testutil.User{})
	topic := testutil.MustCreate(t, srv, testutil.TopicsURL, testutil.Token(t, author), map[string]any{"category": cat.Id, "title": "Busy", "body": "x"})

	const writers, each = 6, 8
	var wg sync.WaitGroup
	errs := make(chan string, writers*each+each)
	for w := 0; w < writers; w++ {
		token := testutil.Token(t, testutil.CreateUser(t, app, testutil.User{}))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				if status, body := srv.Do(t, http.MethodPost, testutil.PostsURL, token, map[string]any{"topic": topic["id"], "body": fmt.Sprintf("reply %d", i)}); status != 200 {
					errs <- fmt.Sprintf("post: %d %s", status, body)
				}
			}
		}()
	}
	wg.Add(1)
	go func() { // the author edits the title meanwhile
		defer wg.Done()
		for i := 0; i < each; i++ {
			if status, body := srv.Do(t, http.MethodPatch, testutil.TopicsURL+"/"+topic["id"].(string), testutil.Token(t, author), map[string]any{"title": fmt.Sprintf("Busy %d", i)}); status != 200 {
				errs <- fmt.Sprintf("edit: %d %s", status, body)
			}
		}
	}()
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}

	check := func(want int) {
		t.Helper()
		got, err := app.FindRecordById("forum_topics", topic["id"].(string))
		if err != nil {
			t.Fatal(err)
		}
		n, _ := app.CountRecords("forum_posts", testutil.DbxHash("topic", got.Id))
		if got.GetInt("post_count") != want || int(n) != want {
			t.Fatalf("post_count %d, posts %d, want %d", got.GetInt("post_count"), n, want)
		}
		var last string
		_ = app.DB().NewQuery("SELECT max(created) FROM forum_posts WHERE topic = {:t}").Bind(map[string]any{"t": got.Id}).Row(&last)
		if got.GetString("last_post_at") != last {
			t.Fatalf("last_post_at %s, newest post %s", got.GetString("last_post_at"), last)
		}
	}
	check(writers * each)

	posts, err := app.FindRecordsByFilter("forum_posts", "topic = {:t}", "", 5, 0, map[string]any{"t": topic["id"]})
	if err != nil {
		t.Fatal(err)
	}
	var dwg sync.WaitGroup
	for _, p := range posts {
		dwg.Add(1)
		go func(id string) {
			defer dwg.Done()
			srv.Do(t, http.MethodDelete, testutil.PostsURL+"/"+id, testutil.SuperuserToken(t, app), nil)
		}(p.Id)
	}
	dwg.Wait()
	check(writers*each - 5)

	// topic_count of categories: concurrent topics, a move, a delete, and a
	// stale save of the category (as the dashboard does)
	other := testutil.NewCategory(t, app, "Other", nil)
	var twg sync.WaitGroup
	for w := 0; w < writers; w++ {
		token := testutil.Token(t, testutil.CreateUser(t, app, testutil.User{}))
		twg.Add(1)
		go func() {
			defer twg.Done()
			for i := 0; i < 4; i++ {
				if status, body := srv.Do(t, http.MethodPost, testutil.TopicsURL, token, map[string]any{"category": cat.Id, "title": "t", "body": "x"}); status != 200 {
					t.Errorf("topic: %d %s", status, body)
				}
			}
		}()
	}
	stale, _ := app.FindRecordById("forum_categories", cat.Id)
	twg.Wait()
	su := testutil.SuperuserToken(t, app)
	testutil.WantStatus(t, srv, http.MethodPatch, testutil.TopicsURL+"/"+topic["id"].(string), su, map[string]any{"category": other.Id}, 200, "")
	stale.Set("description", "saved from an old copy")
	if err := app.Save(stale); err != nil {
		t.Fatal(err)
	}
	testutil.WantStatus(t, srv, http.MethodPatch, testutil.CatsURL+"/"+other.Id, su, map[string]any{"topic_count": 999}, 200, "")
	for c, want := range map[string]int{cat.Id: writers * 4, other.Id: 1} {
		got, _ := app.FindRecordById("forum_categories", c)
		if got.GetInt("topic_count") != want {
			t.Fatalf("topic_count of %s: %d, want %d", got.GetString("name"), got.GetInt("topic_count"), want)
		}
	}
}

func TestForumFollowersNotified(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	star := testutil.CreateUser(t, app, testutil.User{Name: "Star", Rank: "Gold"})
	fan := testutil.CreateUser(t, app, testutil.User{Rank: "Gold"})
	lowFan := testutil.CreateUser(t, app, testutil.User{})
	stranger := testutil.CreateUser(t, app, testutil.User{})
	for _, f := range []*core.Record{fan, lowFan} {
		testutil.MustCreate(t, srv, "/api/collections/follows/records", testutil.Token(t, f), map[string]any{"followee": star.Id})
	}
	open := testutil.NewCategory(t, app, "General", nil)
	goldCat := testutil.NewCategory(t, app, "Gold", map[string]any{"min_rank": testutil.RankID(t, app, "Gold")})
	st := testutil.Token(t, star)

	rt := srv.Subscribe(t, testutil.Token(t, fan), "notifications")
	topic := testutil.MustCreate(t, srv, testutil.TopicsURL, st, map[string]any{"category": open.Id, "title": "New course", "body": "Starts Monday"})
	testutil.MustCreate(t, srv, testutil.TopicsURL, st, map[string]any{"category": goldCat.Id, "title": "Gold secrets", "body": "x"})

	count := func(u *core.Record) int {
		n, err := app.CountRecords("notifications", testutil.DbxHash("user", u.Id), testutil.DbxHash("kind", "follow_post"))
		if err != nil {
			t.Fatal(err)
		}
		return int(n)
	}
	// the followers' notices are a job that runs right after the commit
	salon.WaitBackground(app)
	for i := 0; i < 100 && count(fan)+count(lowFan) < 3; i++ {
		time.Sleep(50 * time.Millisecond)
		salon.WaitBackground(app)
	}
	if count(fan) != 2 || count(lowFan) != 1 || count(stranger) != 0 || count(star) != 0 {
		t.Fatalf("follow_post notifications: fan %d, low-rank fan %d (gold topic must not reach them), stranger %d, star %d",
			count(fan), count(lowFan), count(stranger), count(star))
	}
	n, err := app.FindFirstRecordByFilter("notifications", "user = {:u} && source_id = {:s}", map[string]any{"u": lowFan.Id, "s": topic["id"]})
	if err != nil || !strings.Contains(n.GetString("title"), "Star") || n.GetString("url") != "/forum/topics/"+topic["id"].(string) {
		t.Fatalf("notification: %v %v", n, err)
	}
	ev, ok := rt.Next(3e9)
	if !ok || !strings.Contains(string(ev.Data), "follow_post") {
		t.Fatalf("the follower gets the notification live: %v %s", ok, ev.Data)
	}
}

// Attachments are protected files: only callers who may read the post
// download them, with a file token.
func TestForumAttachments(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	gold := testutil.CreateUser(t, app, testutil.User{Rank: "Gold"})
	free := testutil.CreateUser(t, app, testutil.User{})
	cat := testutil.NewCategory(t, app, "Gold", map[string]any{"min_rank": testutil.RankID(t, app, "Gold")})
	topic := testutil.MustCreate(t, srv, testutil.TopicsURL, testutil.Token(t, gold), map[string]any{"category": cat.Id, "title": "Slides", "body": "x"})

	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("topic", topic["id"].(string))
	_ = mw.WriteField("body", "Here are the slides.")
	fw, _ := mw.CreateFormFile("attachments", "slides.txt")
	_, _ = fw.Write([]byte("members-only slide notes"))
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+testutil.PostsURL, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", testutil.Token(t, gold))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("upload: %d %s", res.StatusCode, raw)
	}
	post := testutil.Decode[map[string]any](t, raw)
	files := post["attachments"].([]any)
	if len(files) != 1 {
		t.Fatalf("attachments: %v", post)
	}
	fileURL := "/api/files/forum_posts/" + post["id"].(string) + "/" + files[0].(string)

	fileToken := func(u *core.Record) string {
		_, body := srv.Do(t, http.MethodPost, "/api/files/token", testutil.Token(t, u), nil)
		return testutil.Decode[map[string]string](t, body)["token"]
	}
	get := func(query string) (int, string) {
		res, err := http.Get(srv.URL + fileURL + query)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if status, body := get("?token=" + fileToken(gold)); status != 200 || body != "members-only slide notes" {
		t.Fatalf("reader download: %d %s", status, body)
	}
	for name, query := range map[string]string{"no token": "", "free member": "?token=" + fileToken(free)} {
		if status, body := get(query); status == 200 || strings.Contains(body, "slide notes") {
			t.Fatalf("%s downloads a protected attachment: %d", name, status)
		}
	}
}

// Deleting an account keeps the discussions it took part in.
func TestForumKeepsDiscussionsOfDeletedAccounts(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	leaver := testutil.CreateUser(t, app, testutil.User{})
	stayer := testutil.CreateUser(t, app, testutil.User{})
	cat := testutil.NewCategory(t, app, "General", nil)
	topic := testutil.MustCreate(t, srv, testutil.TopicsURL, testutil.Token(t, leaver), map[string]any{"category": cat.Id, "title": "Bye", "body": "x"})
	reply := testutil.MustCreate(t, srv, testutil.PostsURL, testutil.Token(t, stayer), map[string]any{"topic": topic["id"], "body": "Good luck"})
	testutil.MustCreate(t, srv, testutil.PostsURL, testutil.Token(t, leaver), map[string]any{"topic": topic["id"], "body": "Thanks"})
	if err := app.Delete(leaver); err != nil {
		t.Fatalf("delete account: %v", err)
	}
	got := testutil.Decode[map[string]any](t, testutil.WantStatus(t, srv, http.MethodGet, testutil.TopicsURL+"/"+topic["id"].(string), testutil.Token(t, stayer), nil, 200, ""))
	if got["author"] != "" || got["post_count"] != float64(2) {
		t.Fatalf("topic after its author left: %v", got)
	}
	testutil.WantStatus(t, srv, http.MethodGet, testutil.PostsURL+"/"+reply["id"].(string), testutil.Token(t, stayer), nil, 200, "Good luck")
	testutil.WantStatus(t, srv, http.MethodPost, "/api/collections/forum_topics/records", testutil.SuperuserToken(t, app),
		map[string]any{"category": cat.Id, "title": "x", "body": "x"}, 400, "author")
}

// A member watching a topic (the web client subscribes to it) sees its
// reply count and activity change live with each post; the post's
// transaction writes the topic's updated column only, the counters being
// the insert trigger's.
func TestForumTopicLiveAfterPost(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	author := testutil.CreateUser(t, app, testutil.User{})
	reader := testutil.CreateUser(t, app, testutil.User{})
	au, rt := testutil.Token(t, author), testutil.Token(t, reader)
	cat := testutil.NewCategory(t, app, "General", nil)
	topic := testutil.MustCreate(t, srv, testutil.TopicsURL, au, map[string]any{"category": cat.Id, "title": "Live", "body": "x"})
	id := topic["id"].(string)
	live := srv.Subscribe(t, rt, "forum_topics/"+id)

	for want := 1; want <= 2; want++ {
		post := testutil.MustCreate(t, srv, testutil.PostsURL, rt, map[string]any{"topic": id, "body": fmt.Sprintf("reply %d", want)})
		ev, ok := live.Next(5 * time.Second)
		if !ok {
			t.Fatalf("post %d: no realtime event for the topic", want)
		}
		var got struct {
			Action string
			Record map[string]any
		}
		if err := json.Unmarshal(ev.Data, &got); err != nil {
			t.Fatal(err)
		}
		if got.Action != "update" || got.Record["post_count"] != float64(want) || got.Record["last_post_at"] != post["created"] {
			t.Fatalf("post %d: event %s", want, ev.Data)
		}
		if got.Record["updated"].(string) < post["created"].(string) {
			t.Fatalf("post %d: topic's updated %v before the post %v", want, got.Record["updated"], post["created"])
		}
		// what the topic reads as afterwards agrees
		saved := testutil.Decode[map[string]any](t, testutil.WantStatus(t, srv, http.MethodGet, testutil.TopicsURL+"/"+id, rt, nil, 200, ""))
		if saved["post_count"] != float64(want) || saved["title"] != "Live" || saved["updated"] != got.Record["updated"] {
			t.Fatalf("post %d: topic %v, event %v", want, saved, got.Record)
		}
	}
}
