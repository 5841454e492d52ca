package rooms_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/pocketbase/pocketbase/core"

	"salonbase/testutil"
)

// roomMessages lists the messages of room that token may read.
func roomMessages(t testing.TB, srv *testutil.Server, token, room string) testutil.List[map[string]any] {
	t.Helper()
	status, body := srv.Do(t, http.MethodGet, testutil.MessagesURL+"?filter="+testutil.Urlq("room='"+room+"'")+"&sort=-created", token, nil)
	if status != http.StatusOK {
		t.Fatalf("list messages: %d %s", status, body)
	}
	return testutil.Decode[testutil.List[map[string]any]](t, body)
}

func TestRoomsVisibleByRankPasswordNeverShown(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	bronze := testutil.CreateUser(t, app, testutil.User{Rank: "Bronze"})
	gold := testutil.CreateUser(t, app, testutil.User{Rank: "Gold"})
	suspended := testutil.CreateUser(t, app, testutil.User{Rank: "Platinum", Suspended: true})
	testutil.NewRoom(t, app, map[string]any{"name": "Open"})
	testutil.NewRoom(t, app, map[string]any{"name": "Gold lounge", "min_rank": testutil.RankID(t, app, "Gold")})
	secret := testutil.NewRoom(t, app, map[string]any{"name": "Secret", "password": "open sesame"})

	if !secret.GetBool("password_protected") {
		t.Fatal("setting a password must mark the room password_protected")
	}
	for token, want := range map[string]int{testutil.Token(t, bronze): 2, testutil.Token(t, gold): 3, "": 0} {
		status, body := srv.Do(t, http.MethodGet, testutil.RoomsURL, token, nil)
		if status != http.StatusOK {
			t.Fatalf("list rooms: %d %s", status, body)
		}
		rooms := testutil.Decode[testutil.List[map[string]any]](t, body)
		if rooms.TotalItems != want {
			t.Errorf("want %d rooms, got %d: %s", want, rooms.TotalItems, body)
		}
		if strings.Contains(string(body), "$2a$") || strings.Contains(string(body), `"password"`) {
			t.Errorf("the room password leaked: %s", body)
		}
	}
	// suspended members are refused outright (foundation), whatever their rank
	if status, _ := srv.Do(t, http.MethodGet, testutil.RoomsURL, testutil.Token(t, suspended), nil); status != http.StatusForbidden {
		t.Errorf("suspended member lists rooms: want 403, got %d", status)
	}
	// superusers (the dashboard) see the bcrypt hash, never the plain text
	_, body := srv.Do(t, http.MethodGet, testutil.RoomsURL+"/"+secret.Id, testutil.SuperuserToken(t, app), nil)
	if strings.Contains(string(body), "open sesame") || !strings.Contains(string(body), `"password":"$2a$`) {
		t.Errorf("superuser view must show the hash only: %s", body)
	}

	// unticking password_protected removes the password
	secret.Set("password_protected", false)
	if err := app.Save(secret); err != nil {
		t.Fatal(err)
	}
	fresh, _ := app.FindRecordById("rooms", secret.Id)
	if fresh.GetString("password") != "" {
		t.Fatal("unticking password_protected must remove the password")
	}
	fresh.Set("password_protected", true)
	if err := app.Save(fresh); err == nil {
		t.Fatal("password_protected without a password must be refused")
	}
}

func TestRoomRankAndPasswordGates(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	bronze := testutil.CreateUser(t, app, testutil.User{Rank: "Bronze"})
	gold := testutil.CreateUser(t, app, testutil.User{Rank: "Gold"})
	admin := testutil.CreateUser(t, app, testutil.User{Role: "admin"})
	goldRoom := testutil.NewRoom(t, app, map[string]any{"name": "Gold lounge", "min_rank": testutil.RankID(t, app, "Gold")})
	secret := testutil.NewRoom(t, app, map[string]any{"name": "Secret", "password": "open sesame"})
	bt, gt, at := testutil.Token(t, bronze), testutil.Token(t, gold), testutil.Token(t, admin)

	// rank
	if status, _ := testutil.Post(t, srv, gt, goldRoom.Id, "gold only"); status != http.StatusOK {
		t.Fatalf("gold posts in the gold room: %d", status)
	}
	status, body := testutil.Post(t, srv, bt, goldRoom.Id, "let me in")
	if status != http.StatusForbidden || !strings.Contains(body["message"].(string), "Gold rank") {
		t.Fatalf("bronze posts in the gold room: want 403 naming Gold, got %d %v", status, body)
	}
	if got := roomMessages(t, srv, bt, goldRoom.Id); got.TotalItems != 0 {
		t.Fatalf("bronze reads the gold room: %v", got.Items)
	}
	if got := roomMessages(t, srv, gt, goldRoom.Id); got.TotalItems != 1 {
		t.Fatalf("gold reads the gold room: %v", got.Items)
	}
	if status, _ := srv.Do(t, http.MethodPost, "/api/salon/rooms/"+goldRoom.Id+"/join", bt, map[string]any{}); status != http.StatusForbidden {
		t.Fatalf("bronze joins the gold room: want 403, got %d", status)
	}

	// password: the admin writes, members must join first
	if status, _ := testutil.Post(t, srv, at, secret.Id, "welcome"); status != http.StatusOK {
		t.Fatalf("admin posts in the password room: %d", status)
	}
	status, body = testutil.Post(t, srv, gt, secret.Id, "hi")
	if status != http.StatusForbidden || !strings.Contains(body["message"].(string), "password") {
		t.Fatalf("posting before joining: want 403 about the password, got %d %v", status, body)
	}
	if got := roomMessages(t, srv, gt, secret.Id); got.TotalItems != 0 {
		t.Fatalf("reading before joining: %v", got.Items)
	}
	join := "/api/salon/rooms/" + secret.Id + "/join"
	for name, c := range map[string]struct {
		body any
		want int
	}{
		"no password":    {nil, http.StatusForbidden},
		"empty password": {map[string]any{"password": ""}, http.StatusForbidden},
		"wrong password": {map[string]any{"password": "open sesam"}, http.StatusForbidden},
	} {
		if status, body := srv.Do(t, http.MethodPost, join, gt, c.body); status != c.want {
			t.Errorf("%s: want %d, got %d %s", name, c.want, status, body)
		}
	}
	if status, body := srv.Do(t, http.MethodPost, join, "", map[string]any{"password": "open sesame"}); status != http.StatusUnauthorized {
		t.Errorf("anonymous join: want 401, got %d %s", status, body)
	}
	status, raw := srv.Do(t, http.MethodPost, join, gt, map[string]any{"password": "open sesame"})
	if status != http.StatusOK {
		t.Fatalf("join with the password: %d %s", status, raw)
	}
	membership := testutil.Decode[map[string]any](t, raw)
	if membership["user"] != gold.Id || membership["notify"] != "all" {
		t.Fatalf("membership: %v", membership)
	}
	if got := roomMessages(t, srv, gt, secret.Id); got.TotalItems != 1 {
		t.Fatalf("after joining the member reads the room: %v", got.Items)
	}
	if status, _ := testutil.Post(t, srv, gt, secret.Id, "thanks"); status != http.StatusOK {
		t.Fatalf("after joining the member posts: %d", status)
	}
	// joining again is harmless and needs no password
	if status, _ := srv.Do(t, http.MethodPost, join, gt, nil); status != http.StatusOK {
		t.Fatalf("joining twice: %d", status)
	}

	// a member may not make themselves a member of a password room
	status, raw = srv.Do(t, http.MethodPost, "/api/collections/room_members/records", bt, map[string]any{"room": secret.Id, "user": bronze.Id})
	if status < 400 || status >= 500 {
		t.Fatalf("member creates their own membership: want 4xx, got %d %s", status, raw)
	}
	if ok, _ := isMember(app, secret.Id, bronze.Id); ok {
		t.Fatal("the refused membership was written")
	}
}

func isMember(app core.App, room, user string) (bool, error) {
	n, err := app.CountRecords("room_members", testutil.DbxHash("room", room), testutil.DbxHash("user", user))
	return n > 0, err
}

func TestRoomJoinBruteForceLocksOut(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	member := testutil.CreateUser(t, app, testutil.User{})
	room := testutil.NewRoom(t, app, map[string]any{"password": "correct horse"})
	join := "/api/salon/rooms/" + room.Id + "/join"
	token := testutil.Token(t, member)
	for i := 0; i < 5; i++ {
		if status, _ := srv.Do(t, http.MethodPost, join, token, map[string]any{"password": "guess"}); status != http.StatusForbidden {
			t.Fatalf("wrong password %d: want 403, got %d", i, status)
		}
	}
	status, body := srv.Do(t, http.MethodPost, join, token, map[string]any{"password": "correct horse"})
	if status != http.StatusTooManyRequests {
		t.Fatalf("after 5 wrong passwords even the right one waits: want 429, got %d %s", status, body)
	}
	if ok, _ := isMember(app, room.Id, member.Id); ok {
		t.Fatal("a locked-out member joined")
	}
	// another member is not locked out by someone else's guesses
	other := testutil.CreateUser(t, app, testutil.User{})
	if status, _ := srv.Do(t, http.MethodPost, join, testutil.Token(t, other), map[string]any{"password": "correct horse"}); status != http.StatusOK {
		t.Fatalf("other member joins: %d", status)
	}
}

func TestRoomJoinIsRateLimitedPerIP(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	testutil.EnableRateLimits(t, app)
	srv := testutil.Serve(t, app)
	room := testutil.NewRoom(t, app, map[string]any{})
	join := "/api/salon/rooms/" + room.Id + "/join"
	token := testutil.Token(t, testutil.CreateUser(t, app, testutil.User{}))
	// joining an open room always succeeds, so only the IP limit can refuse
	for i := 0; i < 60; i++ {
		status, body := srv.Do(t, http.MethodPost, join, token, nil)
		if status == http.StatusTooManyRequests {
			if strings.Contains(string(body), "wrong passwords") {
				t.Fatalf("refused by the password lockout, not the IP limit: %s", body)
			}
			return
		}
		if status != http.StatusOK {
			t.Fatalf("join %d: %d %s", i, status, body)
		}
	}
	t.Fatal("60 joins from one IP within a minute must be rate limited")
}

func TestArchivedRoomIsReadOnly(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	member := testutil.CreateUser(t, app, testutil.User{})
	room := testutil.NewRoom(t, app, map[string]any{})
	if status, _ := testutil.Post(t, srv, testutil.Token(t, member), room.Id, "before"); status != http.StatusOK {
		t.Fatal(status)
	}
	room.Set("archived", true)
	if err := app.Save(room); err != nil {
		t.Fatal(err)
	}
	status, body := testutil.Post(t, srv, testutil.Token(t, member), room.Id, "after")
	if status != http.StatusForbidden || !strings.Contains(body["message"].(string), "archived") {
		t.Fatalf("posting in an archived room: want 403, got %d %v", status, body)
	}
	if got := roomMessages(t, srv, testutil.Token(t, member), room.Id); got.TotalItems != 1 {
		t.Fatalf("history stays readable: %v", got.Items)
	}
}
