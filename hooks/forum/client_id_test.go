package forum_test

import (
	"net/http"
	"sync"
	"testing"

	"salonbase/testutil"
)

// A retried forum post (same client_id) answers the first post and is
// stored once, also when the retries race; the reply notice goes once.
func TestForumPostClientIDMakesRetriesSafe(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	author := testutil.CreateUser(t, app, testutil.User{Name: "Author"})
	replier := testutil.CreateUser(t, app, testutil.User{Name: "Replier"})
	at, rt := testutil.Token(t, author), testutil.Token(t, replier)
	cat := testutil.NewCategory(t, app, "Lounge", nil)
	topic := testutil.MustCreate(t, srv, testutil.TopicsURL, at, map[string]any{"category": cat.Id, "title": "Hello", "body": "first"})
	other := testutil.MustCreate(t, srv, testutil.TopicsURL, at, map[string]any{"category": cat.Id, "title": "Other", "body": "second"})

	first := testutil.MustCreate(t, srv, testutil.PostsURL, rt, map[string]any{"topic": topic["id"], "body": "a reply", "client_id": "p-1"})
	again := testutil.MustCreate(t, srv, testutil.PostsURL, rt, map[string]any{"topic": topic["id"], "body": "a reply", "client_id": "p-1"})
	if again["id"] != first["id"] || first["client_id"] != "p-1" {
		t.Fatalf("a retry must answer the first post %v, got %v", first, again)
	}
	var wg sync.WaitGroup
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, raw := srv.Do(t, http.MethodPost, testutil.PostsURL, rt, map[string]any{"topic": topic["id"], "body": "a reply", "client_id": "p-1"})
			if status != http.StatusOK || testutil.Decode[map[string]any](t, raw)["id"] != first["id"] {
				t.Errorf("racing retry: %d %s", status, raw)
			}
		}()
	}
	wg.Wait()
	if n := testutil.CountRecords(t, app, "forum_posts", testutil.DbxHash("client_id", "p-1")); n != 1 {
		t.Fatalf("a retried post is stored %d times", n)
	}
	if n := testutil.NoticesOf(t, app, author, "reply"); n != 1 {
		t.Fatalf("a retried post told the topic's author %d times", n)
	}

	testutil.WantStatus(t, srv, http.MethodPost, testutil.PostsURL, rt,
		map[string]any{"topic": other["id"], "body": "elsewhere", "client_id": "p-1"}, 409, "client_id_reused")
	// another member's same id is theirs
	mine := testutil.MustCreate(t, srv, testutil.PostsURL, at, map[string]any{"topic": topic["id"], "body": "mine", "client_id": "p-1"})
	if mine["id"] == first["id"] || mine["author"] != author.Id {
		t.Fatalf("another member's same client_id: %v", mine)
	}
	testutil.WantStatus(t, srv, http.MethodPatch, testutil.PostsURL+"/"+first["id"].(string), rt,
		map[string]any{"body": "edited", "client_id": "p-2"}, 400, "client_id")
}
