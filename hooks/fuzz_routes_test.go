package hooks_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"salonbase/testutil"
)

// salonGETRoutes is every GET route under /api/salon (hooks/*/register.go
// and the files they call) with the query parameters it reads. {id}-like
// path segments are fuzzed too; "" keeps a real id.
var salonGETRoutes = []struct {
	path   string
	params []string
}{
	{"/dm/conversations", []string{"page", "perPage"}},
	{"/dm/unread", nil},
	{"/dm/can-write/{user}", nil},
	{"/events/can-create", nil},
	{"/events/{event}/ics", nil},
	{"/events/{event}/attendees", nil},
	{"/events/{event}/attendees.csv", nil},
	{"/calendar/feed-url", nil},
	{"/calendar/{user}/{token}", nil},
	{"/groups/themes", nil},
	{"/profiles/{user}", nil},
	{"/media", nil},
	{"/live/{stream}/key", nil},
	{"/live/{stream}/tips/totals", nil},
	{"/tips/totals", []string{"host"}},
	{"/notifications/unread-count", nil},
	{"/notifications/prefs", nil},
	{"/notifications/unsubscribe", []string{"u", "k", "t"}},
	{"/shop/orders.csv", []string{"status", "from", "to"}},
	{"/rooms/{room}/export.csv", nil},
	{"/rooms/{room}/presence", nil},
	{"/rooms/{room}/search", []string{"q", "page", "perPage", "sort"}},
	{"/search", []string{"q", "page", "perPage", "kind", "category", "author", "tag"}},
}

// FuzzSalonGETRoutes sends arbitrary values for every query parameter and
// path segment of every custom GET route, as an admin, a member and a
// visitor: the answer is never a 5xx (no panic, no SQL error passed
// through), and a 4xx is PocketBase's JSON error. `go test` runs the seeds;
// `go test ./hooks -run XXX -fuzz FuzzSalonGETRoutes` explores further.
func FuzzSalonGETRoutes(f *testing.F) {
	app := testutil.NewApp(f)
	srv := testutil.Serve(f, app)
	admin := testutil.CreateUser(f, app, testutil.User{Role: "admin"})
	member := testutil.CreateUser(f, app, testutil.User{})
	room := testutil.NewRoom(f, app, map[string]any{})
	testutil.Post(f, srv, testutil.Token(f, member), room.Id, "seed message about aurora 東京")
	event := testutil.NewEvent(f, app, admin, map[string]any{"published": true})
	streams, err := app.FindCollectionByNameOrId("live_streams")
	if err != nil {
		f.Fatal(err)
	}
	stream := testutil.NewRecord(streams, map[string]any{"host": admin.Id, "title": "Live", "status": "live", "tips_enabled": true})
	if err := app.Save(stream); err != nil {
		f.Fatal(err)
	}
	ids := map[string]string{"{user}": member.Id, "{event}": event.Id, "{stream}": stream.Id, "{room}": room.Id, "{token}": "x"}
	tokens := []string{testutil.Token(f, admin), testutil.Token(f, member), ""}

	for _, seed := range [][3]string{
		{"", "", ""},
		{"aurora", "1", "20"},
		{"4611686018427387905", "9223372036854775807", "-1"},
		{"ab\x00cd", "\xff\xfe", "1e3"},
		{"'", "\"", "%"},
		{"2026-01-31", "paid", "newest"},
		{"../..", "%2e%2e", "a/b"},
		{strings.Repeat("東", 300), " 1", "2 "},
		{"NEAR(a b) OR c*", "topic", "relevance"},
		{"0", "0", "0"},
	} {
		f.Add(seed[0], seed[1], seed[2])
	}
	f.Fuzz(func(t *testing.T, a, b, c string) {
		values := []string{a, b, c}
		for i, r := range salonGETRoutes {
			path := r.path
			for key, id := range ids {
				v := id
				if i%2 == 0 && a != "" { // half the routes get a fuzzed path segment
					v = a
				}
				path = strings.ReplaceAll(path, key, url.PathEscape(v))
			}
			q := url.Values{}
			for j, p := range r.params {
				q.Set(p, values[(i+j)%len(values)])
			}
			u := "/api/salon" + path
			if len(q) > 0 {
				u += "?" + q.Encode()
			}
			for _, token := range tokens {
				status, ctype, body := get(t, srv, u, token)
				if status >= 500 {
					t.Fatalf("GET %s (token %t): %d %s", u, token != "", status, body)
				}
				if status >= 400 && strings.HasPrefix(ctype, "application/json") {
					var e struct{ Status int }
					if json.Unmarshal(body, &e) != nil || e.Status != status {
						t.Fatalf("GET %s: %d with a body that is not PocketBase's error: %s", u, status, body)
					}
				}
			}
		}
	})
}

func get(t *testing.T, srv *testutil.Server, path, token string) (int, string, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	if err != nil {
		return http.StatusBadRequest, "", nil // not a URL a client can send
	}
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	client := &http.Client{Timeout: 30 * time.Second}
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header.Get("Content-Type"), body
}
