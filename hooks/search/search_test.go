package search_test

import (
	"net/http"
	"strings"
	"testing"

	"salonbase/testutil"
)

type searchResult struct {
	Items []struct {
		Kind       string `json:"kind"`
		ID         string `json:"id"`
		Topic      string `json:"topic"`
		TopicTitle string `json:"topicTitle"`
		Category   string `json:"category"`
		Author     string `json:"author"`
		AuthorName string `json:"authorName"`
		Snippet    string `json:"snippet"`
	} `json:"items"`
	HasMore bool `json:"hasMore"`
}

func search(t testing.TB, srv *testutil.Server, token, query string) searchResult {
	t.Helper()
	body := testutil.WantStatus(t, srv, http.MethodGet, "/api/salon/search?"+query, token, nil, 200, "")
	return testutil.Decode[searchResult](t, body)
}

func (r searchResult) ids() []string {
	var out []string
	for _, it := range r.Items {
		out = append(out, it.ID)
	}
	return out
}

func TestSearch(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	free := testutil.CreateUser(t, app, testutil.User{Name: "Free"})
	gold := testutil.CreateUser(t, app, testutil.User{Name: "Goldie", Rank: "Gold"})
	insider := testutil.CreateUser(t, app, testutil.User{Name: "Insider"})
	admin := testutil.CreateUser(t, app, testutil.User{Role: "admin"})
	ft, gt, it, at := testutil.Token(t, free), testutil.Token(t, gold), testutil.Token(t, insider), testutil.Token(t, admin)

	general := testutil.NewCategory(t, app, "General", nil)
	goldCat := testutil.NewCategory(t, app, "Gold", map[string]any{"min_rank": testutil.RankID(t, app, "Gold")})
	secret := testutil.MustCreate(t, srv, testutil.GroupsURL, it, map[string]any{"name": "Inner", "theme": "business", "visibility": "secret"})

	jp := testutil.MustCreate(t, srv, testutil.TopicsURL, ft, map[string]any{"category": general.Id, "title": "オンラインサロンのフォーラム機能",
		"body": "フォーラムとはオンラインでのディスカッションができるコミュニケーションの場です。東京の会員も参加できます。", "tags": []string{"サロン"}})
	deploy := testutil.MustCreate(t, srv, testutil.TopicsURL, ft, map[string]any{"category": general.Id, "title": "Deploying Salonbase",
		"body": "Copy the binary to the server.", "tags": []string{"ops"}})
	reply := testutil.MustCreate(t, srv, testutil.PostsURL, gt, map[string]any{"topic": deploy["id"], "body": "I deploy with <script>alert(1)</script> systemd and the binary."})
	goldTopic := testutil.MustCreate(t, srv, testutil.TopicsURL, gt, map[string]any{"category": goldCat.Id, "title": "Gold deploy secrets", "body": "binary tricks"})
	secretTopic := testutil.MustCreate(t, srv, testutil.TopicsURL, it, map[string]any{"category": secret["category"], "title": "Secret deploy plan", "body": "binary in the vault"})

	// Japanese: a 3+ character word through the trigram index
	r := search(t, srv, ft, "q="+testutil.Urlq("ディスカッション"))
	if len(r.Items) != 1 || r.Items[0].ID != jp["id"] || !strings.Contains(r.Items[0].Snippet, "<mark>ディスカッション</mark>") {
		t.Fatalf("japanese search: %+v", r)
	}
	// a 2-character Japanese word (below the trigram size) still matches
	if r := search(t, srv, ft, "q="+testutil.Urlq("東京")); len(r.Items) != 1 || !strings.Contains(r.Items[0].Snippet, "<mark>東京</mark>") {
		t.Fatalf("short japanese word: %+v", r)
	}
	// two words must both match
	if r := search(t, srv, ft, "q="+testutil.Urlq("フォーラム 会員")); len(r.Items) != 1 {
		t.Fatalf("two words: %+v", r)
	}
	if r := search(t, srv, ft, "q="+testutil.Urlq("フォーラム 存在しない言葉")); len(r.Items) != 0 {
		t.Fatalf("a word that is nowhere: %+v", r)
	}

	// permissions: each caller finds only what they may read
	for name, c := range map[string]struct {
		token string
		want  []string
	}{
		"free":    {ft, []string{deploy["id"].(string), reply["id"].(string)}},
		"gold":    {gt, []string{deploy["id"].(string), reply["id"].(string), goldTopic["id"].(string)}},
		"insider": {it, []string{deploy["id"].(string), reply["id"].(string), secretTopic["id"].(string)}},
		"admin":   {at, []string{deploy["id"].(string), reply["id"].(string), goldTopic["id"].(string), secretTopic["id"].(string)}},
	} {
		got := search(t, srv, c.token, "q=binary")
		have := map[string]bool{}
		for _, id := range got.ids() {
			have[id] = true
		}
		if len(have) != len(c.want) {
			t.Fatalf("%s finds %v, want %v", name, got.ids(), c.want)
		}
		for _, id := range c.want {
			if !have[id] {
				t.Fatalf("%s misses %s in %v", name, id, got.ids())
			}
		}
	}
	testutil.WantStatus(t, srv, http.MethodGet, "/api/salon/search?q=binary", "", nil, 401, "")
	testutil.WantStatus(t, srv, http.MethodGet, "/api/salon/search?q=", ft, nil, 400, "")
	testutil.WantStatus(t, srv, http.MethodGet, "/api/salon/search?q=x&perPage=500", ft, nil, 400, "perPage")
	testutil.WantStatus(t, srv, http.MethodGet, "/api/salon/search?q=x&kind=users", ft, nil, 400, "kind")
	testutil.WantStatus(t, srv, http.MethodGet, "/api/salon/search?q="+testutil.Urlq(strings.Repeat("長", 201)), ft, nil, 400, "longer")

	// ranking: a title match outranks a body match
	if r := search(t, srv, at, "q=deploy"); len(r.Items) < 3 || r.Items[0].Kind != "topic" || !strings.Contains(strings.ToLower(r.Items[0].TopicTitle), "deploy") {
		t.Fatalf("ranking: %+v", r)
	}
	// snippets are escaped text with marks
	r = search(t, srv, ft, "q=systemd")
	if len(r.Items) != 1 || strings.Contains(r.Items[0].Snippet, "<script>") || !strings.Contains(r.Items[0].Snippet, "&lt;script&gt;") ||
		r.Items[0].AuthorName != "Goldie" || r.Items[0].TopicTitle != "Deploying Salonbase" || r.Items[0].Kind != "post" {
		t.Fatalf("snippet: %+v", r)
	}

	// filters
	if r := search(t, srv, at, "q=binary&author="+gold.Id); len(r.Items) != 2 {
		t.Fatalf("author filter: %+v", r)
	}
	if r := search(t, srv, at, "q=binary&category="+goldCat.Id); len(r.Items) != 1 || r.Items[0].ID != goldTopic["id"] {
		t.Fatalf("category filter: %+v", r)
	}
	if r := search(t, srv, ft, "q=binary&category="+goldCat.Id); len(r.Items) != 0 {
		t.Fatalf("a category filter does not open a category: %+v", r)
	}
	if r := search(t, srv, at, "q=binary&tag=OPS"); len(r.Items) != 2 {
		t.Fatalf("tag filter: %+v", r)
	}
	if r := search(t, srv, at, "q=binary&kind=post"); len(r.Items) != 1 || r.Items[0].ID != reply["id"] {
		t.Fatalf("kind filter: %+v", r)
	}
	if r := search(t, srv, at, "q=binary&perPage=1&page=2"); len(r.Items) != 1 || !r.HasMore {
		t.Fatalf("paging: %+v", r)
	}

	// FTS syntax in the query is searched as text, never an error
	for _, q := range []string{`"`, `bin* OR NEAR(a b)`, `title:binary`, `-binary`, `%_\`} {
		search(t, srv, ft, "q="+testutil.Urlq(q))
	}

	// edits and deletions reach the index at once
	testutil.WantStatus(t, srv, http.MethodPatch, testutil.PostsURL+"/"+reply["id"].(string), gt, map[string]any{"body": "Now with kubernetes."}, 200, "")
	if r := search(t, srv, ft, "q=kubernetes"); len(r.Items) != 1 {
		t.Fatalf("edited post: %+v", r)
	}
	if r := search(t, srv, ft, "q=systemd"); len(r.Items) != 0 {
		t.Fatalf("old text still found: %+v", r)
	}
	testutil.WantStatus(t, srv, http.MethodDelete, testutil.TopicsURL+"/"+deploy["id"].(string), at, nil, 204, "")
	if r := search(t, srv, at, "q=kubernetes"); len(r.Items) != 0 {
		t.Fatalf("deleted topic's post still found: %+v", r)
	}
	var docs int
	if err := app.DB().NewQuery("SELECT count(*) FROM forum_search_docs WHERE topic = {:t}").Bind(map[string]any{"t": deploy["id"]}).Row(&docs); err != nil || docs != 0 {
		t.Fatalf("index rows left: %d %v", docs, err)
	}
}

func TestSearchRateLimit(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	testutil.EnableRateLimits(t, app)
	srv := testutil.Serve(t, app)
	token := testutil.Token(t, testutil.CreateUser(t, app, testutil.User{}))
	limited := 0
	for i := 0; i < 31; i++ {
		if status, _ := srv.Do(t, http.MethodGet, "/api/salon/search?q=hello", token, nil); status == http.StatusTooManyRequests {
			limited++
		}
	}
	if limited != 1 {
		t.Fatalf("31 searches in a burst: %d refused with 429, want 1", limited)
	}
	// other reads keep their own budget
	if status, _ := srv.Do(t, http.MethodGet, testutil.TopicsURL, token, nil); status != http.StatusOK {
		t.Fatalf("a list after the search burst: %d", status)
	}
}
