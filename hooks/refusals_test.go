package hooks_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"salonbase/testutil"
)

// Creates refused by a collection's API rule used to answer a bare 400
// "Failed to create record.": each kind of caller now learns the reason,
// with a stable code, and nothing is written. The allowed caller succeeds.
func TestCreateRuleRefusalsSayWhy(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	me := testutil.CreateUser(t, app, testutil.User{})
	other := testutil.CreateUser(t, app, testutil.User{})
	room := testutil.NewRoom(t, app, map[string]any{"allow_guests": true})
	guest := testutil.NewGuest(t, app, room, time.Hour)
	category := testutil.NewCategory(t, app, "General", nil)
	gold := testutil.RankID(t, app, "Gold")
	member, visitor, guestTok := testutil.Token(t, me), "", testutil.Token(t, guest)
	col := func(name string) string { return "/api/collections/" + name + "/records" }

	for _, c := range []struct {
		name, token, url string
		body             map[string]any
		status           int
		code             string
	}{
		{"invite code with a rank", member, col("invite_codes"), map[string]any{"rank": gold}, 403, "admins_only"},
		{"invite code of another", member, col("invite_codes"), map[string]any{"owner": other.Id}, 403, "not_yours"},
		{"invite code chosen", member, col("invite_codes"), map[string]any{"code": "MYCODE"}, 403, "server_field"},
		{"block yourself", member, col("blocks"), map[string]any{"blocked": me.Id}, 400, "block_self"},
		{"block for another", member, col("blocks"), map[string]any{"user": other.Id, "blocked": me.Id}, 403, "not_yours"},
		{"follow yourself", member, col("follows"), map[string]any{"followee": me.Id}, 400, "follow_self"},
		{"follow for another", member, col("follows"), map[string]any{"follower": other.Id, "followee": me.Id}, 403, "not_yours"},
		{"report with a status", member, col("reports"), map[string]any{"target_collection": "users", "target_id": other.Id, "status": "resolved"}, 403, "admins_only"},
		{"call without caller", member, col("calls"), map[string]any{"callee": other.Id}, 400, "caller_required"},
		{"call in another's name", member, col("calls"), map[string]any{"caller": other.Id, "callee": me.Id}, 403, "not_yours"},
		{"topic in another's name", member, col("forum_topics"), map[string]any{"category": category.Id, "title": "t", "body": "b", "author": other.Id}, 403, "not_yours"},
		{"post in another's name", member, col("forum_posts"), map[string]any{"topic": "x", "body": "b", "author": other.Id}, 403, "not_yours"},
		{"a member makes a room", member, col("rooms"), map[string]any{"name": "Mine"}, 403, "admins_only"},
		{"a guest opens a topic", guestTok, col("forum_topics"), map[string]any{"category": category.Id, "title": "t", "body": "b"}, 403, "not_member"},
		{"a guest follows", guestTok, col("follows"), map[string]any{"followee": me.Id}, 403, "not_member"},
		{"a visitor follows", visitor, col("follows"), map[string]any{"followee": me.Id}, 401, "login"},
		{"a visitor makes a room", visitor, col("rooms"), map[string]any{"name": "Mine"}, 401, "login"},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, body := srv.Do(t, http.MethodPost, c.url, c.token, c.body)
			var got struct {
				Data struct {
					Reason struct{ Code, Message string }
				}
			}
			_ = json.Unmarshal(body, &got)
			if status != c.status || got.Data.Reason.Code != c.code || got.Data.Reason.Message == "" {
				t.Fatalf("want %d %s, got %d %s", c.status, c.code, status, body)
			}
		})
	}
	for _, name := range []string{"invite_codes", "blocks", "follows", "reports", "calls", "forum_topics", "forum_posts"} {
		if n := testutil.CountRecords(t, app, name, nil); n != 0 {
			t.Errorf("%s: %d records written by refused creates", name, n)
		}
	}

	// the same collections, used as intended
	for url, body := range map[string]map[string]any{
		col("invite_codes"): {"max_uses": 2},
		col("blocks"):       {"blocked": other.Id},
		col("follows"):      {"followee": other.Id},
		col("forum_topics"): {"category": category.Id, "title": "Hello", "body": "First"},
	} {
		if status, out := srv.Do(t, http.MethodPost, url, member, body); status != http.StatusOK {
			t.Errorf("%s: %d %s", url, status, out)
		}
	}
}
