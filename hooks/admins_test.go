package hooks_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"

	"salonbase/hooks/salon"
	"salonbase/testutil"
)

// adminEnv is one app with one caller of each kind and a bystander member.
type adminEnv struct {
	app    *tests.TestApp
	srv    *testutil.Server
	admin  *core.Record // role=admin member
	member *core.Record // the bystander whose things admins act on
}

// adminAction performs one admin action as token and reports the status
// and whether it took effect (read back from the database).
type adminAction struct {
	name string
	do   func(t *testing.T, env *adminEnv, caller *core.Record, token string) (status int, effect bool)
}

func record(t *testing.T, app core.App, collection string, values map[string]any) *core.Record {
	t.Helper()
	r := testutil.NewRecord(testutil.MustCollection(t, app, collection), values)
	if err := app.Save(r); err != nil {
		t.Fatalf("save %s: %v", collection, err)
	}
	return r
}

func reload(app core.App, r *core.Record) *core.Record {
	fresh, err := app.FindRecordById(r.Collection().Name, r.Id)
	if err != nil {
		return nil
	}
	return fresh
}

func adminActions() []adminAction {
	do := func(t *testing.T, env *adminEnv, method, url, token string, body any) int {
		t.Helper()
		status, _ := env.srv.Do(t, method, url, token, body)
		return status
	}
	return []adminAction{
		{"create room", func(t *testing.T, env *adminEnv, _ *core.Record, token string) (int, bool) {
			name := "Room " + token[len(token)-8:]
			s := do(t, env, http.MethodPost, testutil.RoomsURL, token, map[string]any{"name": name})
			return s, testutil.CountRecords(t, env.app, "rooms", dbx.HashExp{"name": name}) == 1
		}},
		{"update room", func(t *testing.T, env *adminEnv, _ *core.Record, token string) (int, bool) {
			room := testutil.NewRoom(t, env.app, map[string]any{})
			s := do(t, env, http.MethodPatch, testutil.RoomsURL+"/"+room.Id, token, map[string]any{"name": "Renamed"})
			return s, reload(env.app, room).GetString("name") == "Renamed"
		}},
		{"delete room", func(t *testing.T, env *adminEnv, _ *core.Record, token string) (int, bool) {
			room := testutil.NewRoom(t, env.app, map[string]any{})
			s := do(t, env, http.MethodDelete, testutil.RoomsURL+"/"+room.Id, token, nil)
			return s, reload(env.app, room) == nil
		}},
		{"create forum category", func(t *testing.T, env *adminEnv, _ *core.Record, token string) (int, bool) {
			name := "Cat " + token[len(token)-8:]
			s := do(t, env, http.MethodPost, testutil.CatsURL, token, map[string]any{"name": name})
			return s, testutil.CountRecords(t, env.app, "forum_categories", dbx.HashExp{"name": name}) == 1
		}},
		{"update forum category", func(t *testing.T, env *adminEnv, _ *core.Record, token string) (int, bool) {
			cat := testutil.NewCategory(t, env.app, "General", nil)
			s := do(t, env, http.MethodPatch, testutil.CatsURL+"/"+cat.Id, token, map[string]any{"name": "Renamed"})
			return s, reload(env.app, cat).GetString("name") == "Renamed"
		}},
		{"delete forum category", func(t *testing.T, env *adminEnv, _ *core.Record, token string) (int, bool) {
			cat := testutil.NewCategory(t, env.app, "General", nil)
			s := do(t, env, http.MethodDelete, testutil.CatsURL+"/"+cat.Id, token, nil)
			return s, reload(env.app, cat) == nil
		}},
		{"create an event for another organizer", func(t *testing.T, env *adminEnv, _ *core.Record, token string) (int, bool) {
			title := "Meetup " + token[len(token)-8:]
			s := do(t, env, http.MethodPost, "/api/collections/events/records", token, map[string]any{
				"title": title, "kind": "meetup", "published": true, "organizer": env.member.Id,
				"starts_at": time.Now().Add(72 * time.Hour).UTC().Format("2006-01-02 15:04:05.000Z"),
			})
			return s, testutil.CountRecords(t, env.app, "events", dbx.HashExp{"title": title, "organizer": env.member.Id}) == 1
		}},
		{"create product", func(t *testing.T, env *adminEnv, _ *core.Record, token string) (int, bool) {
			name := "Book " + token[len(token)-8:]
			s := do(t, env, http.MethodPost, "/api/collections/products/records", token, map[string]any{
				"name": name, "price": 1200, "currency": "jpy", "unlimited": true, "active": true,
			})
			return s, testutil.CountRecords(t, env.app, "products", dbx.HashExp{"name": name}) == 1
		}},
		{"create invite code with a rank", func(t *testing.T, env *adminEnv, caller *core.Record, token string) (int, bool) {
			gold := testutil.RankID(t, env.app, "Gold")
			owner := env.admin.Id // a superuser names the member who owns the code
			if caller.Collection().Name == "users" {
				owner = caller.Id
			}
			before := testutil.CountRecords(t, env.app, "invite_codes", dbx.HashExp{"owner": owner, "rank": gold})
			s := do(t, env, http.MethodPost, "/api/collections/invite_codes/records", token, map[string]any{"rank": gold, "owner": owner, "max_uses": 3})
			return s, testutil.CountRecords(t, env.app, "invite_codes", dbx.HashExp{"owner": owner, "rank": gold}) == before+1
		}},
		{"export room CSV", func(t *testing.T, env *adminEnv, _ *core.Record, token string) (int, bool) {
			room := testutil.NewRoom(t, env.app, map[string]any{})
			record(t, env.app, "room_messages", map[string]any{"room": room.Id, "author": env.member.Id, "body": "secret minutes"})
			status, body := env.srv.Do(t, http.MethodGet, "/api/salon/rooms/"+room.Id+"/export.csv", token, nil)
			return status, strings.Contains(string(body), "secret minutes")
		}},
		{"delete any room message", func(t *testing.T, env *adminEnv, _ *core.Record, token string) (int, bool) {
			room := testutil.NewRoom(t, env.app, map[string]any{})
			msg := record(t, env.app, "room_messages", map[string]any{"room": room.Id, "author": env.member.Id, "body": "hello"})
			s := do(t, env, http.MethodDelete, testutil.MessagesURL+"/"+msg.Id, token, nil)
			after := reload(env.app, msg)
			return s, after == nil || !after.GetDateTime("deleted_at").IsZero()
		}},
		{"pin and lock a topic", func(t *testing.T, env *adminEnv, _ *core.Record, token string) (int, bool) {
			cat := testutil.NewCategory(t, env.app, "General", nil)
			topic := record(t, env.app, "forum_topics", map[string]any{"category": cat.Id, "author": env.member.Id, "title": "Hello", "body": "first"})
			s := do(t, env, http.MethodPatch, testutil.TopicsURL+"/"+topic.Id, token, map[string]any{"pinned": true, "locked": true})
			after := reload(env.app, topic)
			return s, after.GetBool("pinned") && after.GetBool("locked")
		}},
		{"announce", func(t *testing.T, env *adminEnv, _ *core.Record, token string) (int, bool) {
			title := "News " + token[len(token)-8:]
			s := do(t, env, http.MethodPost, "/api/salon/notifications/announce", token, map[string]any{"title": title, "body": "the salon opens"})
			salon.WaitBackground(env.app)
			return s, testutil.CountRecords(t, env.app, "notifications", dbx.HashExp{"user": env.member.Id, "title": title}) == 1
		}},
		{"set a member's rank", func(t *testing.T, env *adminEnv, _ *core.Record, token string) (int, bool) {
			who := testutil.CreateUser(t, env.app, testutil.User{})
			gold := testutil.RankID(t, env.app, "Gold")
			s := do(t, env, http.MethodPatch, testutil.UsersURL+"/"+who.Id, token, map[string]any{"rank": gold})
			return s, reload(env.app, who).GetString("rank") == gold
		}},
		{"handle a report", func(t *testing.T, env *adminEnv, _ *core.Record, token string) (int, bool) {
			rep := record(t, env.app, "reports", map[string]any{"reporter": env.member.Id, "target_collection": "users",
				"target_id": token[len(token)-8:], "reason": "spam", "status": "open"})
			s := do(t, env, http.MethodPatch, "/api/collections/reports/records/"+rep.Id, token, map[string]any{"status": "resolved"})
			return s, reload(env.app, rep).GetString("status") == "resolved"
		}},
		{"read another host's stream key", func(t *testing.T, env *adminEnv, _ *core.Record, token string) (int, bool) {
			stream := record(t, env.app, "live_streams", map[string]any{"host": env.member.Id, "title": "Live", "status": "scheduled", "stream_key": "key-of-the-host-0123456789"})
			status, body := env.srv.Do(t, http.MethodGet, "/api/salon/live/"+stream.Id+"/key", token, nil)
			return status, strings.Contains(string(body), "key-of-the-host-0123456789")
		}},
		{"rename a rank", func(t *testing.T, env *adminEnv, _ *core.Record, token string) (int, bool) {
			rank := record(t, env.app, "ranks", map[string]any{"name": "Bronze " + token[len(token)-8:], "level": 100 + len(token)%7 + 10*testutil.CountRecords(t, env.app, "ranks", nil)})
			s := do(t, env, http.MethodPatch, "/api/collections/ranks/records/"+rank.Id, token, map[string]any{"name": "Copper " + token[len(token)-8:]})
			return s, strings.HasPrefix(reload(env.app, rank).GetString("name"), "Copper")
		}},
		{"change salon settings", func(t *testing.T, env *adminEnv, _ *core.Record, token string) (int, bool) {
			s, _ := salon.Settings(env.app)
			want := !s.GetBool("guest_chat")
			st := do(t, env, http.MethodPatch, "/api/collections/salon_settings/records/"+s.Id, token, map[string]any{"guest_chat": want})
			s, _ = salon.Settings(env.app)
			return st, s.GetBool("guest_chat") == want
		}},
	}
}

// TestAdminKindsAreEqual: every admin action the README lists succeeds for
// a dashboard superuser and for a role=admin member alike, and is refused
// (4xx, nothing changed) for a tutor and a plain member.
func TestAdminKindsAreEqual(t *testing.T) {
	t.Parallel()
	for _, action := range adminActions() {
		t.Run(action.name, func(t *testing.T) {
			t.Parallel()
			app := testutil.NewApp(t)
			env := &adminEnv{app: app, srv: testutil.Serve(t, app)}
			env.admin = testutil.CreateUser(t, app, testutil.User{Role: salon.RoleAdmin})
			env.member = testutil.CreateUser(t, app, testutil.User{})
			callers := []struct {
				kind    string
				record  *core.Record
				allowed bool
			}{
				{"superuser", testutil.CreateSuperuser(t, app), true},
				{"app admin", env.admin, true},
				{"tutor", testutil.CreateUser(t, app, testutil.User{Role: salon.RoleTutor}), false},
				{"member", testutil.CreateUser(t, app, testutil.User{}), false},
			}
			for _, c := range callers {
				status, effect := action.do(t, env, c.record, testutil.Token(t, c.record))
				switch {
				case c.allowed && (status < 200 || status > 299 || !effect):
					t.Errorf("%s: want success, got %d (took effect: %v)", c.kind, status, effect)
				case !c.allowed && effect:
					t.Errorf("%s: must be refused, but it took effect (%d)", c.kind, status)
				case !c.allowed && (status < 400 || status > 499):
					t.Errorf("%s: want a 4xx refusal, got %d", c.kind, status)
				}
			}
		})
	}
}
