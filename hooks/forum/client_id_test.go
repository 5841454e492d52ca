package forum_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

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

// A retried new topic (same client_id) answers the first topic and opens
// it once, also when the retries race; the category's followers are told
// once; a member below the category's rank gets the refusal, not the topic.
func TestForumTopicClientIDMakesRetriesSafe(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	author := testutil.CreateUser(t, app, testutil.User{Name: "Author"})
	follower := testutil.CreateUser(t, app, testutil.User{Name: "Follower"})
	at := testutil.Token(t, author)
	cat := testutil.NewCategory(t, app, "Lounge", nil)
	other := testutil.NewCategory(t, app, "Other", nil)
	testutil.MustCreate(t, srv, "/api/collections/forum_follows/records", testutil.Token(t, follower), map[string]any{"category": cat.Id})

	body := map[string]any{"category": cat.Id, "title": "Hello", "body": "first", "client_id": "t-1"}
	first := testutil.MustCreate(t, srv, testutil.TopicsURL, at, body)
	again := testutil.MustCreate(t, srv, testutil.TopicsURL, at, body)
	if again["id"] != first["id"] || first["client_id"] != "t-1" {
		t.Fatalf("a retry must answer the first topic %v, got %v", first, again)
	}
	var wg sync.WaitGroup
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, raw := srv.Do(t, http.MethodPost, testutil.TopicsURL, at, body)
			if status != http.StatusOK || testutil.Decode[map[string]any](t, raw)["id"] != first["id"] {
				t.Errorf("racing retry: %d %s", status, raw)
			}
		}()
	}
	wg.Wait()
	if n := testutil.CountRecords(t, app, "forum_topics", testutil.DbxHash("client_id", "t-1")); n != 1 {
		t.Fatalf("a retried topic is stored %d times", n)
	}
	// the followers' notice is a job run after the answer: wait for it,
	// then make sure no second one follows
	for i := 0; i < 100 && testutil.NoticesOf(t, app, follower, "forum_follow") == 0; i++ {
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	if n := testutil.NoticesOf(t, app, follower, "forum_follow"); n != 1 {
		t.Fatalf("a retried topic told the category's follower %d times", n)
	}

	testutil.WantStatus(t, srv, http.MethodPost, testutil.TopicsURL, at,
		map[string]any{"category": other.Id, "title": "Elsewhere", "body": "x", "client_id": "t-1"}, 409, "client_id_reused")
	testutil.WantStatus(t, srv, http.MethodPatch, testutil.TopicsURL+"/"+first["id"].(string), at,
		map[string]any{"title": "Renamed", "client_id": "t-2"}, 400, "client_id")

	// raised above the author's rank: the retry is refused like any write
	// and shows nothing of the topic
	cat.Set("min_rank", testutil.RankID(t, app, "Gold"))
	if err := app.Save(cat); err != nil {
		t.Fatal(err)
	}
	status, raw := srv.Do(t, http.MethodPost, testutil.TopicsURL, at, body)
	if status != http.StatusForbidden || strings.Contains(string(raw), first["id"].(string)) {
		t.Fatalf("a retry after losing access: %d %s", status, raw)
	}
}
