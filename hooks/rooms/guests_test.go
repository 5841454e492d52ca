package rooms_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"salonbase/testutil"
)

func TestGuestLinksAndGuestsStayInTheirRoom(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	moderator := testutil.CreateUser(t, app, testutil.User{Name: "Mod"})
	member := testutil.CreateUser(t, app, testutil.User{Name: "Member"})
	room := testutil.NewRoom(t, app, map[string]any{"name": "Open house", "allow_guests": true, "moderators": []string{moderator.Id}})
	noGuests := testutil.NewRoom(t, app, map[string]any{"name": "Members only", "moderators": []string{moderator.Id}})
	other := testutil.NewRoom(t, app, map[string]any{"name": "Other", "allow_guests": true})
	mt, modt := testutil.Token(t, member), testutil.Token(t, moderator)
	testutil.Post(t, srv, mt, other.Id, "private to members")

	links := func(room string) string { return "/api/salon/rooms/" + room + "/guest-links" }
	if status, _ := srv.Do(t, http.MethodPost, links(room.Id), mt, nil); status != http.StatusForbidden {
		t.Errorf("a plain member creates a guest link: want 403, got %d", status)
	}
	if status, _ := srv.Do(t, http.MethodPost, links(noGuests.Id), modt, nil); status != http.StatusForbidden {
		t.Errorf("guest link for a room without guests: want 403, got %d", status)
	}
	if status, _ := srv.Do(t, http.MethodPost, links(room.Id), modt, map[string]any{"expires_in_hours": 100000}); status != http.StatusBadRequest {
		t.Errorf("absurd expiry: want 400, got %d", status)
	}
	status, raw := srv.Do(t, http.MethodPost, links(room.Id), modt, map[string]any{"label": "Open day", "expires_in_hours": 48})
	if status != http.StatusOK {
		t.Fatalf("moderator creates a guest link: %d %s", status, raw)
	}
	link := testutil.Decode[map[string]any](t, raw)
	token := link["token"].(string)
	stored, _ := app.FindRecordById("guest_links", link["id"].(string))
	if stored.GetString("token_hash") == token || stored.GetString("token_hash") == "" {
		t.Fatal("only the token's hash is stored")
	}
	_, raw = srv.Do(t, http.MethodGet, "/api/collections/guest_links/records", modt, nil)
	if strings.Contains(string(raw), "token_hash") || !strings.Contains(string(raw), `"totalItems":1`) {
		t.Errorf("moderators list links without the hash: %s", raw)
	}
	if _, raw = srv.Do(t, http.MethodGet, "/api/collections/guest_links/records", mt, nil); !strings.Contains(string(raw), `"totalItems":0`) {
		t.Errorf("members do not see guest links: %s", raw)
	}

	join := func(token, name string) (int, map[string]any) {
		status, raw := srv.Do(t, http.MethodPost, "/api/salon/guests/join", "", map[string]any{"token": token, "name": name})
		return status, testutil.Decode[map[string]any](t, raw)
	}
	if status, _ := join("nope", "Visitor"); status != http.StatusNotFound {
		t.Errorf("unknown link: want 404, got %d", status)
	}
	if status, _ := join(token, "  "); status != http.StatusBadRequest {
		t.Errorf("no name: want 400, got %d", status)
	}
	status, auth := join(token, "Visitor")
	if status != http.StatusOK {
		t.Fatalf("guest join: %d %v", status, auth)
	}
	gt := auth["token"].(string)
	if rec := auth["record"].(map[string]any); rec["room"] != room.Id || rec["name"] != "Visitor" {
		t.Fatalf("guest record: %v", rec)
	}

	// the guest's one room works
	status, msg := testutil.Post(t, srv, gt, room.Id, "Hello from a guest")
	if status != http.StatusOK || msg["guest"] == "" || msg["author"] != "" || msg["author_name"] != "Visitor" {
		t.Fatalf("guest posts: %d %v", status, msg)
	}
	testutil.Post(t, srv, mt, room.Id, "Welcome!")
	if got := roomMessages(t, srv, gt, room.Id); got.TotalItems != 2 || got.Items[0]["author_name"] != "Member" {
		t.Fatalf("guest reads the room with names: %v", got.Items)
	}
	rt := srv.Subscribe(t, gt, "rooms/"+room.Id)

	// ... and nothing else
	if status, body := testutil.Post(t, srv, gt, other.Id, "sneaking"); status != http.StatusForbidden {
		t.Errorf("guest posts in another room: want 403, got %d %v", status, body)
	}
	if got := roomMessages(t, srv, gt, other.Id); got.TotalItems != 0 {
		t.Errorf("guest reads another room: %v", got.Items)
	}
	for path, want := range map[string]string{
		testutil.RoomsURL:                             `"totalItems":1`,
		"/api/collections/users/records":              `"totalItems":0`,
		"/api/collections/notifications/records":      `"totalItems":0`,
		"/api/collections/room_members/records":       `"totalItems":0`,
		"/api/collections/guest_links/records":        `"totalItems":0`,
		"/api/collections/users/records/" + member.Id: `"status":404`,
	} {
		_, raw := srv.Do(t, http.MethodGet, path, gt, nil)
		if !strings.Contains(string(raw), want) {
			t.Errorf("guest GET %s: want %s, got %s", path, want, raw)
		}
	}
	for _, path := range []string{"/api/salon/rooms/" + other.Id + "/search?q=private", "/api/salon/rooms/" + other.Id + "/presence"} {
		if status, _ := srv.Do(t, http.MethodGet, path, gt, nil); status != http.StatusForbidden {
			t.Errorf("guest GET %s: want 403, got %d", path, status)
		}
	}
	if status, _ := srv.Do(t, http.MethodPost, "/api/salon/rooms/"+room.Id+"/join", gt, nil); status != http.StatusForbidden {
		t.Errorf("guest joins as a member: want 403, got %d", status)
	}
	status, raw = srv.Do(t, http.MethodPost, "/api/realtime", gt, map[string]any{"clientId": rt.ClientID, "subscriptions": []string{"rooms/" + other.Id}})
	if status != http.StatusForbidden {
		t.Errorf("guest subscribes to another room: want 403, got %d %s", status, raw)
	}
	if status, _ := srv.Do(t, http.MethodPost, "/api/collections/guests/records", "", map[string]any{"name": "x", "password": "1234567890", "passwordConfirm": "1234567890"}); status < 400 {
		t.Errorf("guests are created only through links: got %d", status)
	}

	// revoking the link ends the access at once
	status, raw = srv.Do(t, http.MethodPatch, "/api/collections/guest_links/records/"+stored.Id, modt, map[string]any{"revoked": true})
	if status != http.StatusOK {
		t.Fatalf("revoke: %d %s", status, raw)
	}
	if status, _ := testutil.Post(t, srv, gt, room.Id, "still here?"); status != http.StatusForbidden {
		t.Errorf("revoked guest posts: want 403, got %d", status)
	}
	if got := roomMessages(t, srv, gt, room.Id); got.TotalItems != 0 {
		t.Errorf("revoked guest reads: %v", got.Items)
	}
	if _, raw := srv.Do(t, http.MethodGet, testutil.RoomsURL, gt, nil); !strings.Contains(string(raw), `"totalItems":0`) {
		t.Errorf("revoked guest lists rooms: %s", raw)
	}
	testutil.Post(t, srv, mt, room.Id, "after the revocation")
	for {
		ev, ok := rt.Next(300 * time.Millisecond)
		if !ok {
			break
		}
		if strings.Contains(string(ev.Data), "after the revocation") {
			t.Fatalf("a revoked guest still receives messages: %s", ev.Data)
		}
	}
	if status, _ := join(token, "Second visitor"); status != http.StatusForbidden {
		t.Errorf("joining through a revoked link: want 403, got %d", status)
	}

	// a moderator cannot revive a revoked link nor stretch one past 90 days
	linkURL := "/api/collections/guest_links/records/" + stored.Id
	if status, raw := srv.Do(t, http.MethodPatch, linkURL, modt, map[string]any{"revoked": false}); status != http.StatusForbidden || !strings.Contains(string(raw), `"admins_only"`) {
		t.Errorf("moderator revives a revoked link: want 403 admins_only, got %d %s", status, raw)
	}
	status, raw = srv.Do(t, http.MethodPost, links(room.Id), modt, map[string]any{"expires_in_hours": 24})
	if status != http.StatusOK {
		t.Fatalf("second link: %d %s", status, raw)
	}
	second := "/api/collections/guest_links/records/" + testutil.Decode[map[string]any](t, raw)["id"].(string)
	for _, far := range []time.Duration{91 * 24 * time.Hour, 10 * 365 * 24 * time.Hour} {
		status, raw := srv.Do(t, http.MethodPatch, second, modt, map[string]any{"expires_at": time.Now().Add(far).UTC().Format(time.RFC3339)})
		if status != http.StatusBadRequest || !strings.Contains(string(raw), `"link_too_long"`) {
			t.Errorf("moderator extends a link by %v: want 400 link_too_long, got %d %s", far, status, raw)
		}
	}
	if status, raw := srv.Do(t, http.MethodPatch, second, modt, map[string]any{"expires_at": time.Now().Add(30 * 24 * time.Hour).UTC().Format(time.RFC3339)}); status != http.StatusOK {
		t.Errorf("moderator extends a link within 90 days: %d %s", status, raw)
	}
	admin := testutil.CreateUser(t, app, testutil.User{Role: "admin"})
	if status, raw := srv.Do(t, http.MethodPatch, linkURL, testutil.Token(t, admin), map[string]any{"revoked": false}); status != http.StatusOK {
		t.Errorf("admin restores a revoked link: %d %s", status, raw)
	}
}

func TestGuestChatSwitchAndExpiry(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	admin := testutil.CreateUser(t, app, testutil.User{Role: "admin"})
	room := testutil.NewRoom(t, app, map[string]any{"allow_guests": true})
	at := testutil.Token(t, admin)
	_, raw := srv.Do(t, http.MethodPost, "/api/salon/rooms/"+room.Id+"/guest-links", at, nil)
	answer := testutil.Decode[map[string]any](t, raw)
	token := answer["token"].(string)
	if want := app.Settings().Meta.AppURL + "/guest/" + token; answer["url"] != want {
		t.Fatalf("guest link url = %v, want the web client's page %s", answer["url"], want)
	}
	_, raw = srv.Do(t, http.MethodPost, "/api/salon/guests/join", "", map[string]any{"token": token, "name": "Early"})
	gt := testutil.Decode[map[string]any](t, raw)["token"].(string)

	testutil.UpdateSettings(t, app, map[string]any{"guest_chat": false})
	if status, _ := testutil.Post(t, srv, gt, room.Id, "hi"); status != http.StatusForbidden {
		t.Errorf("guest chat off: want 403, got %d", status)
	}
	if got := roomMessages(t, srv, gt, room.Id); got.TotalItems != 0 {
		t.Errorf("guest chat off: guest still reads")
	}
	status, _ := srv.Do(t, http.MethodPost, "/api/salon/guests/join", "", map[string]any{"token": token, "name": "Late"})
	if status != http.StatusForbidden {
		t.Errorf("joining while guest chat is off: want 403, got %d", status)
	}
	if n, _ := app.CountRecords("guests"); n != 1 {
		t.Errorf("a refused join left a guest behind: %d guests", n)
	}
	if status, _ := srv.Do(t, http.MethodPost, "/api/salon/rooms/"+room.Id+"/guest-links", at, nil); status != http.StatusForbidden {
		t.Errorf("new links while guest chat is off: want 403, got %d", status)
	}

	testutil.UpdateSettings(t, app, map[string]any{"guest_chat": true})
	if status, _ := testutil.Post(t, srv, gt, room.Id, "back"); status != http.StatusOK {
		t.Fatalf("guest chat on again: %d", status)
	}
	link, _ := app.FindFirstRecordByFilter("guest_links", "room = {:r}", map[string]any{"r": room.Id})
	link.Set("expires_at", time.Now().Add(-time.Minute))
	if err := app.Save(link); err != nil {
		t.Fatal(err)
	}
	if status, _ := testutil.Post(t, srv, gt, room.Id, "expired"); status != http.StatusForbidden {
		t.Errorf("expired link: want 403, got %d", status)
	}
	if got := roomMessages(t, srv, gt, room.Id); got.TotalItems != 0 {
		t.Errorf("expired link: guest still reads")
	}
}

// A guest whose link runs out by time alone (nothing is saved) stops
// receiving the room live at that moment, and leaves its presence.
func TestGuestLiveFeedEndsWhenTheLinkExpires(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	testutil.UpdateSettings(t, app, map[string]any{"guest_chat": true})
	member := testutil.CreateUser(t, app, testutil.User{})
	mt := testutil.Token(t, member)
	room := testutil.NewRoom(t, app, map[string]any{"allow_guests": true})
	// long enough for the subscriptions below to be made on a slow machine
	// (under -race), short enough to wait for
	guest := testutil.NewGuest(t, app, room, 10*time.Second)
	topic := "rooms/" + room.Id
	feed := srv.Subscribe(t, testutil.Token(t, guest), topic)
	witness := srv.Subscribe(t, mt, topic)

	if status, _ := testutil.Post(t, srv, mt, room.Id, "while the link lives"); status != http.StatusOK {
		t.Fatalf("member posts: %d", status)
	}
	if !receives(t, feed, "while the link lives") {
		t.Fatal("the guest's feed did not work while the link lived")
	}
	// wait (without saving anything) until the normal read refuses the guest
	for i := 0; ; i++ {
		status, _ := srv.Do(t, http.MethodGet, "/api/salon/rooms/"+room.Id+"/presence", testutil.Token(t, guest), nil)
		if status == http.StatusForbidden {
			break
		}
		if i > 200 {
			t.Fatal("the guest link never expired")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if status, _ := testutil.Post(t, srv, mt, room.Id, "after the expiry"); status != http.StatusOK {
		t.Fatalf("member posts: %d", status)
	}
	if !receives(t, witness, "after the expiry") {
		t.Fatal("the member's feed stopped")
	}
	if !quiet(t, feed, "after the expiry") {
		t.Fatal("a guest whose link expired still receives the room live")
	}
	// the grant itself is gone: the guest is no longer present
	for i := 0; ; i++ {
		_, raw := srv.Do(t, http.MethodGet, "/api/salon/rooms/"+room.Id+"/presence", mt, nil)
		if !strings.Contains(string(raw), guest.Id) {
			break
		}
		if i > 50 {
			t.Fatalf("the expired guest is still present: %s", raw)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
