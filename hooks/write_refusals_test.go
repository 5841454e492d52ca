package hooks_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"

	"salonbase/testutil"
)

// Updates and deletes refused by a collection's rule used to answer
// PocketBase's 404 even to a member who sees the record. A caller who may
// view the record now learns why (403 and a stable code) and nothing
// changes; a caller who may not view it still gets the bare 404, like for a
// record that does not exist; the allowed caller succeeds.
func TestUpdateAndDeleteRefusalsSayWhy(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	gold := testutil.RankID(t, app, "Gold")
	mine := testutil.CreateUser(t, app, testutil.User{Rank: "Gold"}) // owns everything below
	other := testutil.CreateUser(t, app, testutil.User{Rank: "Gold"})
	free := testutil.CreateUser(t, app, testutil.User{}) // sees nothing Gold-only
	me, them, low := testutil.Token(t, mine), testutil.Token(t, other), testutil.Token(t, free)

	save := func(name string, values map[string]any) *core.Record {
		t.Helper()
		r := testutil.NewRecord(testutil.MustCollection(t, app, name), values)
		if err := app.Save(r); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return r
	}
	category := testutil.NewCategory(t, app, "Gold lounge", map[string]any{"min_rank": gold})
	topic := save("forum_topics", map[string]any{"category": category.Id, "author": mine.Id, "title": "Mine", "body": "b"})
	post := save("forum_posts", map[string]any{"topic": topic.Id, "author": mine.Id, "body": "reply"})
	room := testutil.NewRoom(t, app, map[string]any{"min_rank": gold, "allow_guests": true})
	guest := testutil.NewGuest(t, app, room, time.Hour)
	message := save("room_messages", map[string]any{"room": room.Id, "author": mine.Id, "body": "hello"})
	event := testutil.NewEvent(t, app, mine, map[string]any{"min_rank": gold})
	openGroup := testutil.MustCreate(t, srv, testutil.GroupsURL, me, map[string]any{"name": "Hikers", "theme": "hobby", "visibility": "open"})
	secretGroup := testutil.MustCreate(t, srv, testutil.GroupsURL, me, map[string]any{"name": "Circle", "theme": "hobby", "visibility": "secret"})
	ownerRow, err := app.FindFirstRecordByFilter("group_members", "group = {:g} && user = {:u}", map[string]any{"g": openGroup["id"], "u": mine.Id})
	if err != nil {
		t.Fatal(err)
	}
	follow := save("follows", map[string]any{"follower": mine.Id, "followee": other.Id})
	usedCode := save("invite_codes", map[string]any{"owner": mine.Id, "code": "USEDCODE", "uses": 1, "max_uses": 5})
	notice := save("notifications", map[string]any{"user": mine.Id, "kind": "reply", "title": "t", "body": "b"})
	stream := save("live_streams", map[string]any{"host": mine.Id, "title": "Live", "status": "scheduled"})
	report := save("reports", map[string]any{"reporter": mine.Id, "target_collection": "users", "target_id": other.Id, "reason": "spam", "status": "open"})
	rsvpStatus, rsvpBody := srv.Do(t, http.MethodPost, "/api/salon/events/"+event.Id+"/rsvp", them, nil)
	if rsvpStatus != http.StatusOK {
		t.Fatalf("rsvp: %d %s", rsvpStatus, rsvpBody)
	}
	rsvp, err := app.FindFirstRecordByData("event_rsvps", "user", other.Id)
	if err != nil {
		t.Fatal(err)
	}

	url := func(name, id string) string { return "/api/collections/" + name + "/records/" + id }
	title := map[string]any{"title": "Changed"}
	for _, c := range []struct {
		name, method, url, token string
		body                     map[string]any
		status                   int
		code                     string // "" for PocketBase's own answer (no reason)
	}{
		{"edit another's topic", "PATCH", url("forum_topics", topic.Id), them, title, 403, "not_yours"},
		{"edit a topic one cannot see", "PATCH", url("forum_topics", topic.Id), low, title, 404, ""},
		{"delete another's topic", "DELETE", url("forum_topics", topic.Id), them, nil, 403, "not_yours"},
		{"delete one's topic with replies", "DELETE", url("forum_topics", topic.Id), me, nil, 403, "topic_has_replies"},
		{"delete a topic one cannot see", "DELETE", url("forum_topics", topic.Id), low, nil, 404, ""},
		{"edit another's post", "PATCH", url("forum_posts", post.Id), them, map[string]any{"body": "x"}, 403, "not_yours"},
		{"delete another's post", "DELETE", url("forum_posts", post.Id), them, nil, 403, "not_yours"},
		{"delete a post one cannot see", "DELETE", url("forum_posts", post.Id), low, nil, 404, ""},
		{"edit another's room message", "PATCH", url("room_messages", message.Id), them, map[string]any{"body": "x"}, 403, "not_yours"},
		{"a guest edits a member's message", "PATCH", url("room_messages", message.Id), testutil.Token(t, guest), map[string]any{"body": "x"}, 403, "not_yours"},
		{"edit a message one cannot see", "PATCH", url("room_messages", message.Id), low, map[string]any{"body": "x"}, 404, ""},
		{"a member renames a room", "PATCH", url("rooms", room.Id), them, map[string]any{"name": "x"}, 403, "admins_only"},
		{"rename a room one cannot see", "PATCH", url("rooms", room.Id), low, map[string]any{"name": "x"}, 404, ""},
		{"edit another's event", "PATCH", url("events", event.Id), them, title, 403, "not_yours"},
		{"hand one's event to another", "PATCH", url("events", event.Id), me, map[string]any{"organizer": other.Id}, 403, "admins_only"},
		{"edit an event one cannot see", "PATCH", url("events", event.Id), low, title, 404, ""},
		{"delete another's event", "DELETE", url("events", event.Id), them, nil, 403, "not_yours"},
		{"change one's RSVP record", "PATCH", url("event_rsvps", rsvp.Id), them, map[string]any{"status": "going"}, 403, "read_only"},
		{"delete another's RSVP one cannot see", "DELETE", url("event_rsvps", rsvp.Id), low, nil, 403, ""},
		{"edit a group one does not run", "PATCH", url("groups", openGroup["id"].(string)), them, map[string]any{"name": "x"}, 403, "group_moderators_only"},
		{"delete a group one does not own", "DELETE", url("groups", openGroup["id"].(string)), them, nil, 403, "group_owner_only"},
		{"edit a secret group one cannot see", "PATCH", url("groups", secretGroup["id"].(string)), them, map[string]any{"name": "x"}, 404, ""},
		{"the owner leaves", "DELETE", url("group_members", ownerRow.Id), me, nil, 403, "owner_cannot_leave"},
		{"remove another member", "DELETE", url("group_members", ownerRow.Id), them, nil, 403, "not_yours"},
		{"promote oneself", "PATCH", url("group_members", ownerRow.Id), me, map[string]any{"role": "moderator"}, 403, "read_only"},
		{"change another's profile", "PATCH", url("users", mine.Id), them, map[string]any{"name": "x"}, 403, "not_yours"},
		{"delete another's account", "DELETE", url("users", mine.Id), them, nil, 403, "not_yours"},
		{"remove another's follow", "DELETE", url("follows", follow.Id), them, nil, 403, "not_yours"},
		{"delete a used invite code", "DELETE", url("invite_codes", usedCode.Id), me, nil, 403, "invite_used"},
		{"delete another's invite code", "DELETE", url("invite_codes", usedCode.Id), them, nil, 404, ""},
		{"rewrite one's notice", "PATCH", url("notifications", notice.Id), me, map[string]any{"title": "x"}, 403, "server_field"},
		{"read another's notice", "PATCH", url("notifications", notice.Id), them, map[string]any{"read": true}, 404, ""},
		{"edit another's stream", "PATCH", url("live_streams", stream.Id), them, title, 403, "not_yours"},
		{"delete another's stream", "DELETE", url("live_streams", stream.Id), them, nil, 403, "not_yours"},
		{"close one's own report", "PATCH", url("reports", report.Id), me, map[string]any{"status": "resolved"}, 403, "admins_only"},
		{"close another's report", "PATCH", url("reports", report.Id), them, map[string]any{"status": "resolved"}, 404, ""},
		{"delete one's report", "DELETE", url("reports", report.Id), me, nil, 403, "read_only"},
		{"a visitor edits a topic", "PATCH", url("forum_topics", topic.Id), "", title, 404, ""},
		{"edit a topic that does not exist", "PATCH", url("forum_topics", "nosuchtopic1234"), them, title, 404, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			var body any
			if c.body != nil {
				body = c.body
			}
			status, out := srv.Do(t, c.method, c.url, c.token, body)
			var got struct {
				Data struct {
					Reason *struct{ Code, Message string }
				}
			}
			_ = json.Unmarshal(out, &got)
			switch {
			case status != c.status:
				t.Fatalf("want %d %s, got %d %s", c.status, c.code, status, out)
			case c.code == "" && got.Data.Reason != nil:
				t.Fatalf("want PocketBase's bare %d, got a reason: %s", c.status, out)
			case c.code != "" && (got.Data.Reason == nil || got.Data.Reason.Code != c.code || got.Data.Reason.Message == ""):
				t.Fatalf("want code %s, got %s", c.code, out)
			}
		})
	}

	// nothing the refused requests asked for happened
	for name, r := range map[string]*core.Record{"forum_topics": topic, "events": event, "live_streams": stream} {
		if got := testutil.Reload(t, app, r).GetString("title"); got == "Changed" {
			t.Errorf("%s: a refused update changed the title", name)
		}
	}
	if got := testutil.Reload(t, app, message).GetString("body"); got != "hello" {
		t.Errorf("room message: %q after refused edits", got)
	}
	for name, id := range map[string]string{"forum_topics": topic.Id, "forum_posts": post.Id, "events": event.Id,
		"group_members": ownerRow.Id, "follows": follow.Id, "invite_codes": usedCode.Id, "live_streams": stream.Id, "users": mine.Id} {
		if _, err := app.FindRecordById(name, id); err != nil {
			t.Errorf("%s %s: gone after refused deletes: %v", name, id, err)
		}
	}

	// the same records, by those allowed
	for _, c := range []struct{ method, url, token string }{
		{"PATCH", url("forum_topics", topic.Id), me},
		{"PATCH", url("forum_posts", post.Id), me},
		{"PATCH", url("events", event.Id), me},
		{"PATCH", url("live_streams", stream.Id), me},
		{"PATCH", url("groups", openGroup["id"].(string)), me},
		{"PATCH", url("users", mine.Id), me},
		{"DELETE", url("forum_posts", post.Id), me},
		{"DELETE", url("follows", follow.Id), me},
	} {
		body := map[string]any{"title": "Mine, edited", "body": "edited", "name": "Edited"}
		if c.method == "DELETE" {
			body = nil
		}
		var b any
		if body != nil {
			b = body
		}
		if status, out := srv.Do(t, c.method, c.url, c.token, b); status != http.StatusOK && status != http.StatusNoContent {
			t.Errorf("%s %s: %d %s", c.method, c.url, status, out)
		}
	}
}
