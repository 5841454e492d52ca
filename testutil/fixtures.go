package testutil

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/security"

	"salonbase/hooks/salon"
)

const UsersURL = "/api/collections/users/records"

// newEvent saves an event directly (as the dashboard would).
func NewEvent(t testing.TB, app core.App, organizer *core.Record, values map[string]any) *core.Record {
	t.Helper()
	c, err := app.FindCollectionByNameOrId("events")
	if err != nil {
		t.Fatal(err)
	}
	r := core.NewRecord(c)
	r.Set("title", "Monthly meetup")
	r.Set("kind", "meetup")
	r.Set("starts_at", time.Now().Add(72*time.Hour))
	r.Set("published", true)
	if organizer != nil {
		r.Set("organizer", organizer.Id)
	}
	for k, v := range values {
		r.Set(k, v)
	}
	if err := app.Save(r); err != nil {
		t.Fatalf("save event: %v", err)
	}
	salon.WaitBackground(app)
	return r
}

func NoticesOf(t testing.TB, app core.App, user *core.Record, kind string) int {
	t.Helper()
	return CountRecords(t, app, "notifications", dbx.HashExp{"user": user.Id, "kind": kind})
}

const (
	CatsURL   = "/api/collections/forum_categories/records"
	TopicsURL = "/api/collections/forum_topics/records"
	PostsURL  = "/api/collections/forum_posts/records"
)

// newCategory saves a category as an admin would in the dashboard.
func NewCategory(t testing.TB, app core.App, name string, values map[string]any) *core.Record {
	t.Helper()
	c, err := app.FindCollectionByNameOrId("forum_categories")
	if err != nil {
		t.Fatal(err)
	}
	r := NewRecord(c, values)
	r.Set("name", name)
	if err := app.Save(r); err != nil {
		t.Fatalf("category %s: %v", name, err)
	}
	return r
}

// post sends a JSON create and fails unless it answers 200.
func MustCreate(t testing.TB, srv *Server, url, token string, body map[string]any) map[string]any {
	t.Helper()
	status, out := srv.Do(t, http.MethodPost, url, token, body)
	if status != http.StatusOK {
		t.Fatalf("POST %s %v: %d %s", url, body, status, out)
	}
	return Decode[map[string]any](t, out)
}

func WantStatus(t testing.TB, srv *Server, method, url, token string, body any, want int, wantMsg string) []byte {
	t.Helper()
	status, out := srv.Do(t, method, url, token, body)
	if status != want {
		t.Fatalf("%s %s: want %d, got %d %s", method, url, want, status, out)
	}
	if wantMsg != "" && !strings.Contains(string(out), wantMsg) {
		t.Fatalf("%s %s: want message %q in %s", method, url, wantMsg, out)
	}
	return out
}

const (
	GroupsURL  = "/api/collections/groups/records"
	MembersURL = "/api/collections/group_members/records"
)

func GroupAction(id, rest string) string { return "/api/salon/groups/" + id + rest }

func CountItems(t testing.TB, srv *Server, url, token string) int {
	t.Helper()
	status, body := srv.Do(t, http.MethodGet, url, token, nil)
	if status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, status, body)
	}
	return Decode[List[map[string]any]](t, body).TotalItems
}

// member creates a member with a verified address in the given language.
func Member(t testing.TB, app core.App, u User, lang string) *core.Record {
	t.Helper()
	r := CreateUser(t, app, u)
	r.SetVerified(true)
	r.Set("lang", lang)
	if err := app.Save(r); err != nil {
		t.Fatal(err)
	}
	return r
}

func CountRecords(t testing.TB, app core.App, collection string, where dbx.Expression) int {
	t.Helper()
	n, err := app.CountRecords(collection, where)
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

func Ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// newGuest saves a guest admitted to room by a fresh link.
func NewGuest(t testing.TB, app core.App, room *core.Record, valid time.Duration) *core.Record {
	t.Helper()
	links, _ := app.FindCollectionByNameOrId("guest_links")
	link := NewRecord(links, map[string]any{"room": room.Id, "token_hash": security.RandomString(64), "expires_at": time.Now().Add(valid)})
	if err := app.Save(link); err != nil {
		t.Fatal(err)
	}
	guests, _ := app.FindCollectionByNameOrId("guests")
	g := NewRecord(guests, map[string]any{"name": "Guest", "room": room.Id, "guest_link": link.Id})
	g.SetRaw("password", &core.PasswordFieldValue{Hash: passwordHash(t, "1234567890")})
	if err := app.Save(g); err != nil {
		t.Fatal(err)
	}
	return g
}

const (
	RoomsURL    = "/api/collections/rooms/records"
	MessagesURL = "/api/collections/room_messages/records"
)

// newRoom saves a room as an admin would in the dashboard.
func NewRoom(t testing.TB, app core.App, values map[string]any) *core.Record {
	t.Helper()
	c, err := app.FindCollectionByNameOrId("rooms")
	if err != nil {
		t.Fatal(err)
	}
	if values["name"] == nil {
		values["name"] = "Lounge"
	}
	r := NewRecord(c, values)
	if err := app.Save(r); err != nil {
		t.Fatalf("create room: %v", err)
	}
	return r
}

// post writes a message as token and returns status and body.
func Post(t testing.TB, srv *Server, token, room, body string) (int, map[string]any) {
	t.Helper()
	status, raw := srv.Do(t, http.MethodPost, MessagesURL, token, map[string]any{"room": room, "body": body})
	out := map[string]any{}
	if len(raw) > 0 {
		out = Decode[map[string]any](t, raw)
	}
	return status, out
}

func MustCollection(t *testing.T, app core.App, name string) *core.Collection {
	t.Helper()
	c, err := app.FindCollectionByNameOrId(name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
