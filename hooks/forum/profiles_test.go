package forum_test

import (
	"net/http"
	"strings"
	"testing"

	"salonbase/testutil"
)

type profileResult struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Bio       string `json:"bio"`
	Role      string `json:"role"`
	Followers int    `json:"followers"`
	Following int    `json:"following"`
	YouFollow bool   `json:"youFollow"`
	Rank      struct {
		Name  string `json:"name"`
		Level int    `json:"level"`
	} `json:"rank"`
	Topics struct {
		Total  int `json:"total"`
		Recent []struct {
			ID     string `json:"id"`
			Solved bool   `json:"solved"`
		} `json:"recent"`
	} `json:"topics"`
	Posts struct {
		Total  int `json:"total"`
		Recent []struct {
			ID      string `json:"id"`
			Excerpt string `json:"excerpt"`
		} `json:"recent"`
	} `json:"posts"`
	Answers struct {
		Total  int `json:"total"`
		Recent []struct {
			ID         string `json:"id"`
			TopicTitle string `json:"topicTitle"`
		} `json:"recent"`
	} `json:"answers"`
	Groups []struct {
		ID   string `json:"id"`
		Role string `json:"role"`
	} `json:"groups"`
}

func TestProfile(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	expert := testutil.CreateUser(t, app, testutil.User{Name: "Expert", Rank: "Gold", Email: "expert-private@example.com"})
	asker := testutil.CreateUser(t, app, testutil.User{Name: "Asker", Rank: "Gold"})
	viewer := testutil.CreateUser(t, app, testutil.User{})
	gone := testutil.CreateUser(t, app, testutil.User{Suspended: true})
	admin := testutil.CreateUser(t, app, testutil.User{Role: "admin"})
	et, as, vt := testutil.Token(t, expert), testutil.Token(t, asker), testutil.Token(t, viewer)
	expert.Set("bio", "Go and SQLite")
	if err := app.Save(expert); err != nil {
		t.Fatal(err)
	}

	testutil.MustCreate(t, srv, "/api/collections/follows/records", vt, map[string]any{"followee": expert.Id})
	testutil.MustCreate(t, srv, "/api/collections/follows/records", as, map[string]any{"followee": expert.Id})
	testutil.MustCreate(t, srv, "/api/collections/follows/records", et, map[string]any{"followee": asker.Id})

	general := testutil.NewCategory(t, app, "General", nil)
	goldCat := testutil.NewCategory(t, app, "Gold", map[string]any{"min_rank": testutil.RankID(t, app, "Gold")})
	q := testutil.MustCreate(t, srv, testutil.TopicsURL, as, map[string]any{"category": general.Id, "title": "Which database?", "body": "?", "question": true})
	ans := testutil.MustCreate(t, srv, testutil.PostsURL, et, map[string]any{"topic": q["id"], "body": "SQLite, in one file."})
	testutil.WantStatus(t, srv, http.MethodPatch, testutil.TopicsURL+"/"+q["id"].(string), as, map[string]any{"answer": ans["id"]}, 200, "")
	testutil.MustCreate(t, srv, testutil.TopicsURL, et, map[string]any{"category": general.Id, "title": "My setup", "body": "x"})
	gq := testutil.MustCreate(t, srv, testutil.TopicsURL, as, map[string]any{"category": goldCat.Id, "title": "Gold question", "body": "?"})
	gans := testutil.MustCreate(t, srv, testutil.PostsURL, et, map[string]any{"topic": gq["id"], "body": "Gold answer"})
	testutil.WantStatus(t, srv, http.MethodPatch, testutil.TopicsURL+"/"+gq["id"].(string), as, map[string]any{"answer": gans["id"]}, 200, "")
	testutil.MustCreate(t, srv, testutil.TopicsURL, et, map[string]any{"category": goldCat.Id, "title": "Gold notes", "body": "x"})

	hikers := testutil.MustCreate(t, srv, testutil.GroupsURL, et, map[string]any{"name": "Hikers", "theme": "hobby", "visibility": "open"})
	secret := testutil.MustCreate(t, srv, testutil.GroupsURL, et, map[string]any{"name": "Hidden", "theme": "business", "visibility": "secret"})

	url := "/api/salon/profiles/" + expert.Id
	raw := testutil.WantStatus(t, srv, http.MethodGet, url, vt, nil, 200, "")
	for _, private := range []string{"expert-private", "email", "suspended", "invited_by", secret["id"].(string), "Gold notes", "Gold answer"} {
		if strings.Contains(string(raw), private) {
			t.Fatalf("profile leaks %q: %s", private, raw)
		}
	}
	p := testutil.Decode[profileResult](t, raw)
	if p.Name != "Expert" || p.Bio != "Go and SQLite" || p.Role != "member" || p.Rank.Name != "Gold" || p.Followers != 2 || p.Following != 1 || !p.YouFollow {
		t.Fatalf("profile header: %+v", p)
	}
	// a free viewer sees only the general category's activity
	if p.Topics.Total != 1 || p.Posts.Total != 1 || p.Answers.Total != 1 || p.Answers.Recent[0].TopicTitle != "Which database?" ||
		p.Posts.Recent[0].Excerpt != "SQLite, in one file." {
		t.Fatalf("free viewer's activity: %+v", p)
	}
	if len(p.Groups) != 1 || p.Groups[0].ID != hikers["id"] || p.Groups[0].Role != "owner" {
		t.Fatalf("groups: %+v", p.Groups)
	}
	// a gold viewer sees the gold activity too
	p = testutil.Decode[profileResult](t, testutil.WantStatus(t, srv, http.MethodGet, url, as, nil, 200, ""))
	if p.Topics.Total != 2 || p.Posts.Total != 2 || p.Answers.Total != 2 || p.YouFollow != true {
		t.Fatalf("gold viewer's activity: %+v", p)
	}
	// the asker's own solved question shows as solved on their profile
	a := testutil.Decode[profileResult](t, testutil.WantStatus(t, srv, http.MethodGet, "/api/salon/profiles/"+asker.Id, et, nil, 200, ""))
	if a.Topics.Total != 2 || !a.Topics.Recent[0].Solved || a.Answers.Total != 0 || a.YouFollow != true {
		t.Fatalf("asker's profile: %+v", a)
	}

	testutil.WantStatus(t, srv, http.MethodGet, url, "", nil, 401, "")
	testutil.WantStatus(t, srv, http.MethodGet, "/api/salon/profiles/nope", vt, nil, 404, "")
	testutil.WantStatus(t, srv, http.MethodGet, "/api/salon/profiles/"+gone.Id, vt, nil, 404, "")
	testutil.WantStatus(t, srv, http.MethodGet, "/api/salon/profiles/"+gone.Id, testutil.Token(t, admin), nil, 200, "")
}
