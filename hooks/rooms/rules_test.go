package rooms_test

import (
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"

	"salonbase/hooks/rooms"
	"salonbase/testutil"
)

// The Go decision (rooms.CanReadRoom, used by the routes, realtime topics
// and hooks) and the room_messages view rule (used by the stock CRUD and
// realtime routes) must agree for every kind of caller and room, so the
// two copies of "who reads a room" cannot drift apart.
func TestRoomReadPolicyMatchesRule(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	bronze := testutil.CreateUser(t, app, testutil.User{Rank: "Bronze"})
	gold := testutil.CreateUser(t, app, testutil.User{Rank: "Gold"})
	joined := testutil.CreateUser(t, app, testutil.User{Rank: "Gold"})
	suspended := testutil.CreateUser(t, app, testutil.User{Rank: "Platinum", Suspended: true})
	tutor := testutil.CreateUser(t, app, testutil.User{Role: "tutor", Rank: "Bronze"})
	admin := testutil.CreateUser(t, app, testutil.User{Role: "admin", Rank: "Free"})
	owner := testutil.CreateUser(t, app, testutil.User{})
	hiker := testutil.CreateUser(t, app, testutil.User{})
	root := testutil.CreateSuperuser(t, app)

	open := testutil.NewRoom(t, app, map[string]any{})
	goldRoom := testutil.NewRoom(t, app, map[string]any{"min_rank": testutil.RankID(t, app, "Gold")})
	secret := testutil.NewRoom(t, app, map[string]any{"password": "secret!"})
	archived := testutil.NewRoom(t, app, map[string]any{"archived": true})
	guestRoom := testutil.NewRoom(t, app, map[string]any{"allow_guests": true})
	group := testutil.MustCreate(t, srv, testutil.GroupsURL, testutil.Token(t, owner), map[string]any{"name": "Hikers", "theme": "hobby", "visibility": "open"})
	groupRoom, err := app.FindRecordById("rooms", group["room"].(string))
	if err != nil {
		t.Fatal(err)
	}
	memberships, _ := app.FindCollectionByNameOrId("group_members")
	if err := app.Save(testutil.NewRecord(memberships, map[string]any{"group": group["id"], "user": hiker.Id, "role": "member", "status": "active"})); err != nil {
		t.Fatal(err)
	}
	roomMembers, _ := app.FindCollectionByNameOrId("room_members")
	if err := app.Save(testutil.NewRecord(roomMembers, map[string]any{"room": secret.Id, "user": joined.Id})); err != nil {
		t.Fatal(err)
	}
	guest := testutil.NewGuest(t, app, guestRoom, time.Hour)
	expired := testutil.NewGuest(t, app, guestRoom, -time.Hour)

	messages, err := app.FindCollectionByNameOrId("room_messages")
	if err != nil {
		t.Fatal(err)
	}
	callers := map[string]*core.Record{
		"anonymous": nil, "superuser": root, "admin": admin, "tutor": tutor, "bronze": bronze, "gold": gold,
		"joined": joined, "suspended": suspended, "group owner": owner, "group member": hiker,
		"guest": guest, "expired guest": expired,
	}
	seen := map[bool]bool{} // the table must hold both answers
	for roomName, room := range map[string]*core.Record{
		"open": open, "gold": goldRoom, "password": secret, "archived": archived, "guests": guestRoom, "group": groupRoom,
	} {
		msg := testutil.NewRecord(messages, map[string]any{"room": room.Id, "author": admin.Id, "author_name": "Admin", "body": "hello"})
		if err := app.Save(msg); err != nil {
			t.Fatalf("message in %s room: %v", roomName, err)
		}
		for callerName, caller := range callers {
			goAllows := rooms.CanReadRoom(app, caller, room) == nil
			seen[goAllows] = true
			ruleAllows, err := app.CanAccessRecord(msg, &core.RequestInfo{Auth: caller, Method: "GET"}, messages.ViewRule)
			if err != nil {
				t.Fatalf("%s room, %s: rule: %v", roomName, callerName, err)
			}
			if goAllows != ruleAllows {
				t.Errorf("%s room, %s: Go says %v, the room_messages rule says %v", roomName, callerName, goAllows, ruleAllows)
			}
		}
	}
	if !seen[true] || !seen[false] {
		t.Fatalf("the table must hold allowed and refused callers: %v", seen)
	}
}
