package search_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"salonbase/testutil"
)

// The attacker's inputs that used to answer 500 (an OFFSET overflow, a NUL
// passed to the FTS parser) now answer 400 with a clear message.
func TestSearchRefusesBadInput(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	member := testutil.CreateUser(t, app, testutil.User{})
	token := testutil.Token(t, member)
	room := testutil.NewRoom(t, app, map[string]any{})
	testutil.Post(t, srv, token, room.Id, "abcd efgh")
	for _, c := range []struct{ path, msg string }{
		{"/api/salon/search?q=abc&page=4611686018427387905", "page parameter must be a number from 1 to"},
		{"/api/salon/search?q=abc&page=99999999999999999999", "page parameter"},
		{"/api/salon/search?q=ab%00cd", "control characters"},
		{"/api/salon/search?q=ab%ffcd", "not valid UTF-8"},
		{"/api/salon/search?q=abc&author=x%00y", "control characters"},
		{"/api/salon/rooms/" + room.Id + "/search?q=abcd&page=4611686018427387905", "page parameter"},
		{"/api/salon/rooms/" + room.Id + "/search?q=abcd&page=x", "page parameter"},
		{"/api/salon/rooms/" + room.Id + "/search?q=ab%00cd", "control characters"},
	} {
		testutil.WantStatus(t, srv, http.MethodGet, c.path, token, nil, http.StatusBadRequest, c.msg)
	}
}

// FuzzSearchQueries sends arbitrary values for every query parameter of the
// custom search routes: the answer is never a 5xx, always JSON. `go test`
// runs the seed corpus; `go test ./hooks/search -fuzz FuzzSearchQueries`
// explores further.
func FuzzSearchQueries(f *testing.F) {
	app := testutil.NewApp(f)
	srv := testutil.Serve(f, app)
	member := testutil.CreateUser(f, app, testutil.User{})
	token := testutil.Token(f, member)
	room := testutil.NewRoom(f, app, map[string]any{})
	testutil.Post(f, srv, token, room.Id, "seed message about aurora 東京")

	for _, seed := range [][8]string{
		{"aurora", "", "", "", "", "", "", ""},
		{"ab\x00cd", "1", "20", "", "", "", "", "relevance"},
		{"abc", "4611686018427387905", "", "", "", "", "", ""},
		{"abc", "-1", "0", "topic", "", "", "", "newest"},
		{"\"unterminated", "2", "50", "post", "x", "y", "#go", "sideways"},
		{"NEAR(a b) OR c*", "9223372036854775807", "9223372036854775807", "room_message", "'", "\"", "%", ""},
		{"\xff\xfe", "1e3", "1.5", "", "\x00", "\x00", "\x00", "\x00"},
		{strings.Repeat("東", 300), "", "", "", "", "", "", ""},
		{"東京", " 1", "2 ", "", "", "", "", ""},
	} {
		f.Add(seed[0], seed[1], seed[2], seed[3], seed[4], seed[5], seed[6], seed[7])
	}
	f.Fuzz(func(t *testing.T, q, page, perPage, kind, category, author, tag, sort string) {
		values := url.Values{"q": {q}, "page": {page}, "perPage": {perPage}, "kind": {kind},
			"category": {category}, "author": {author}, "tag": {tag}, "sort": {sort}}
		for _, path := range []string{"/api/salon/search", "/api/salon/rooms/" + room.Id + "/search"} {
			status, body := srv.Do(t, http.MethodGet, path+"?"+values.Encode(), token, nil)
			if status >= 500 || !json.Valid(body) {
				t.Fatalf("%s?%s: %d %s", path, values.Encode(), status, body)
			}
		}
	})
}
