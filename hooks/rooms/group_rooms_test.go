package rooms_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"

	"salonbase/testutil"
)

// A group's chat room: created with the group, read and written by its
// active members only; leaving, removal and bans end access at once.
func TestGroupRoom(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	owner := testutil.CreateUser(t, app, testutil.User{})
	member := testutil.CreateUser(t, app, testutil.User{})
	outsider := testutil.CreateUser(t, app, testutil.User{})
	admin := testutil.CreateUser(t, app, testutil.User{Role: "admin"})
	ow, mt, ot, at := testutil.Token(t, owner), testutil.Token(t, member), testutil.Token(t, outsider), testutil.Token(t, admin)

	group := testutil.MustCreate(t, srv, testutil.GroupsURL, ow, map[string]any{"name": "Hikers", "theme": "hobby", "visibility": "open", "room": "forged"})
	gid := group["id"].(string)
	room, _ := group["room"].(string)
	if room == "" || room == "forged" {
		t.Fatalf("the group must get its own room: %v", group)
	}
	rec, err := app.FindRecordById("rooms", room)
	if err != nil || rec.GetString("group") != gid || rec.GetString("name") != "Hikers" {
		t.Fatalf("group room record: %v %v", rec, err)
	}

	// before joining: the room is invisible and closed
	if n := testutil.CountItems(t, srv, "/api/collections/rooms/records?filter="+testutil.Urlq("id='"+room+"'"), mt); n != 0 {
		t.Fatalf("a non-member sees the group room (%d)", n)
	}
	if status, _ := testutil.Post(t, srv, mt, room, "hello?"); status != http.StatusForbidden {
		t.Fatalf("non-member posts in the group room: want 403, got %d", status)
	}

	// the owner writes; a member joins and reads it
	if status, out := testutil.Post(t, srv, ow, room, "Welcome hikers"); status != http.StatusOK {
		t.Fatalf("owner posts: %d %v", status, out)
	}
	testutil.WantStatus(t, srv, http.MethodPost, testutil.GroupAction(gid, "/join"), mt, nil, 200, "active")
	if l := roomMessages(t, srv, mt, room); l.TotalItems != 1 {
		t.Fatalf("member reads %d messages, want 1", l.TotalItems)
	}
	if status, _ := testutil.Post(t, srv, mt, room, "Hi all"); status != http.StatusOK {
		t.Fatalf("member posts: %d", status)
	}
	for who, token := range map[string]string{"outsider": ot} {
		if l := roomMessages(t, srv, token, room); l.TotalItems != 0 {
			t.Fatalf("%s reads %d group-room messages", who, l.TotalItems)
		}
	}
	if l := roomMessages(t, srv, at, room); l.TotalItems != 2 {
		t.Fatalf("admin reads %d messages, want 2", l.TotalItems)
	}

	// renaming the group renames its room; the room cannot be swapped
	testutil.WantStatus(t, srv, http.MethodPatch, testutil.GroupsURL+"/"+gid, ow, map[string]any{"name": "Mountain hikers"}, 200, "")
	if rec, _ := app.FindRecordById("rooms", room); rec.GetString("name") != "Mountain hikers" {
		t.Fatalf("room name: %q", rec.GetString("name"))
	}
	testutil.WantStatus(t, srv, http.MethodPatch, testutil.GroupsURL+"/"+gid, ow, map[string]any{"room": ""}, 400, "room cannot be replaced")

	// a banned member loses the room at once
	testutil.WantStatus(t, srv, http.MethodPost, testutil.GroupAction(gid, "/members/"+member.Id+"/ban"), ow, nil, 200, "")
	if l := roomMessages(t, srv, mt, room); l.TotalItems != 0 {
		t.Fatalf("banned member still reads %d messages", l.TotalItems)
	}
	if status, _ := testutil.Post(t, srv, mt, room, "still here?"); status != http.StatusForbidden {
		t.Fatalf("banned member posts: want 403, got %d", status)
	}

	// deleting the group deletes its room
	testutil.WantStatus(t, srv, http.MethodDelete, testutil.GroupsURL+"/"+gid, ow, nil, 204, "")
	if _, err := app.FindRecordById("rooms", room); err == nil {
		t.Fatal("the group's room outlived the group")
	}
}

// receives waits until rt receives an event containing text.
func receives(t testing.TB, rt *testutil.Realtime, text string) bool {
	t.Helper()
	for {
		ev, ok := rt.Next(5 * time.Second)
		if !ok {
			return false
		}
		if strings.Contains(string(ev.Data), text) {
			return true
		}
	}
}

// Members banned from, removed from or leaving a group stop receiving its
// room's live feed at once, not only its stored messages.
func TestGroupRoomLiveFeedEndsWithMembership(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	owner := testutil.CreateUser(t, app, testutil.User{})
	ow := testutil.Token(t, owner)
	group := testutil.MustCreate(t, srv, testutil.GroupsURL, ow, map[string]any{"name": "Readers", "theme": "hobby", "visibility": "open"})
	gid, room := group["id"].(string), group["room"].(string)
	topic := "rooms/" + room
	witness := srv.Subscribe(t, ow, topic)

	for _, c := range []struct {
		how  string
		lose func(member *core.Record, token string)
	}{
		{"banned", func(m *core.Record, _ string) {
			testutil.WantStatus(t, srv, http.MethodPost, testutil.GroupAction(gid, "/members/"+m.Id+"/ban"), ow, nil, 200, "")
		}},
		{"removed", func(m *core.Record, _ string) {
			testutil.WantStatus(t, srv, http.MethodPost, testutil.GroupAction(gid, "/members/"+m.Id+"/remove"), ow, nil, 204, "")
		}},
		{"left", func(m *core.Record, token string) {
			row, err := app.FindFirstRecordByFilter("group_members", "group = {:g} && user = {:u}", dbx.Params{"g": gid, "u": m.Id})
			if err != nil {
				t.Fatal(err)
			}
			testutil.WantStatus(t, srv, http.MethodDelete, "/api/collections/group_members/records/"+row.Id, token, nil, 204, "")
		}},
	} {
		member := testutil.CreateUser(t, app, testutil.User{})
		mt := testutil.Token(t, member)
		testutil.WantStatus(t, srv, http.MethodPost, testutil.GroupAction(gid, "/join"), mt, nil, 200, "active")
		feed := srv.Subscribe(t, mt, topic)
		before := "before " + c.how
		if status, _ := testutil.Post(t, srv, ow, room, before); status != http.StatusOK {
			t.Fatalf("%s: owner posts: %d", c.how, status)
		}
		if !receives(t, feed, before) || !receives(t, witness, before) {
			t.Fatalf("%s: the member's feed did not work before", c.how)
		}
		c.lose(member, mt)
		after := "after " + c.how
		if status, _ := testutil.Post(t, srv, ow, room, after); status != http.StatusOK {
			t.Fatalf("%s: owner posts: %d", c.how, status)
		}
		if !receives(t, witness, after) {
			t.Fatalf("%s: the owner's feed stopped", c.how)
		}
		if !quiet(t, feed, after) {
			t.Errorf("a member who was %s still receives the group room live", c.how)
		}
	}
}
