package forum_test

import (
	"net/http"
	"testing"

	"salonbase/testutil"
)

// A topic shows that it was edited: edited_at is set by the server when
// the title or body changes, never by the client, and an admin pinning or
// locking it, new replies or a new tag leave it alone.
func TestForumTopicEditedAt(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	author := testutil.CreateUser(t, app, testutil.User{})
	admin := testutil.CreateUser(t, app, testutil.User{Role: "admin"})
	au, at := testutil.Token(t, author), testutil.Token(t, admin)
	cat := testutil.NewCategory(t, app, "General", nil)

	topic := testutil.MustCreate(t, srv, testutil.TopicsURL, au, map[string]any{"category": cat.Id, "title": "Hello", "body": "x",
		"edited_at": "2030-01-01 00:00:00.000Z"})
	if topic["edited_at"] != "" {
		t.Fatalf("a new topic is not edited: %v", topic["edited_at"])
	}
	url := testutil.TopicsURL + "/" + topic["id"].(string)
	editedAt := func() string {
		t.Helper()
		return testutil.Decode[map[string]any](t, testutil.WantStatus(t, srv, http.MethodGet, url, au, nil, 200, ""))["edited_at"].(string)
	}

	testutil.WantStatus(t, srv, http.MethodPatch, url, at, map[string]any{"pinned": true, "locked": true}, 200, "")
	testutil.WantStatus(t, srv, http.MethodPatch, url, at, map[string]any{"locked": false}, 200, "")
	testutil.MustCreate(t, srv, testutil.PostsURL, at, map[string]any{"topic": topic["id"], "body": "a reply"})
	testutil.WantStatus(t, srv, http.MethodPatch, url, au, map[string]any{"tags": []string{"help"}, "edited_at": "2030-01-01 00:00:00.000Z"}, 200, "")
	if got := editedAt(); got != "" {
		t.Fatalf("pin, lock, a reply, a tag or the client set edited_at: %q", got)
	}

	testutil.WantStatus(t, srv, http.MethodPatch, url, au, map[string]any{"body": "x, corrected"}, 200, "")
	first := editedAt()
	if first == "" {
		t.Fatal("the author's edit of the body left edited_at empty")
	}
	// a later pin keeps the time of the edit; the client cannot clear it
	testutil.WantStatus(t, srv, http.MethodPatch, url, at, map[string]any{"pinned": false}, 200, "")
	testutil.WantStatus(t, srv, http.MethodPatch, url, au, map[string]any{"edited_at": ""}, 200, "")
	if got := editedAt(); got != first {
		t.Fatalf("edited_at %q after a pin and a client's clear, want %q", got, first)
	}
	testutil.WantStatus(t, srv, http.MethodPatch, url, au, map[string]any{"title": "Hello again"}, 200, "")
	if got := editedAt(); got == "" || got < first {
		t.Fatalf("the author's edit of the title: edited_at %q (was %q)", got, first)
	}
}
