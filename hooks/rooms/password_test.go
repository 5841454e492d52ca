package rooms_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/pocketbase/pocketbase/core"

	"salonbase/testutil"
)

// TestRoomPasswordSetLikeAnyField: an operator sets, changes and clears a
// room password as a superuser through the records API (what the dashboard
// sends); the server stores only a bcrypt hash and members join with it.
func TestRoomPasswordSetLikeAnyField(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	root := testutil.SuperuserToken(t, app)
	room := testutil.NewRoom(t, app, map[string]any{"name": "Lounge"})
	url := testutil.RoomsURL + "/" + room.Id

	// the dashboard shows an input for text fields, none for password fields
	if f := testutil.MustCollection(t, app, "rooms").Fields.GetByName("password"); f == nil || f.Type() != core.FieldTypeText || !f.GetHidden() {
		t.Fatalf("rooms.password must be a hidden text field, got %#v", f)
	}
	rawColumn := func() string {
		var v string
		if err := app.DB().NewQuery("SELECT password FROM rooms WHERE id = {:id}").Bind(map[string]any{"id": room.Id}).Row(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	join := func(password string) int {
		member := testutil.CreateUser(t, app, testutil.User{})
		status, _ := srv.Do(t, http.MethodPost, "/api/salon/rooms/"+room.Id+"/join", testutil.Token(t, member), map[string]any{"password": password})
		return status
	}

	out := testutil.WantStatus(t, srv, http.MethodPatch, url, root, map[string]any{"password": "open sesame"}, http.StatusOK, "")
	first := rawColumn()
	if strings.Contains(string(out), "open sesame") || first == "open sesame" || !strings.HasPrefix(first, "$2a$") {
		t.Fatalf("the plain password was kept: column %q, answer %s", first, out)
	}
	if got := testutil.Decode[map[string]any](t, out); got["password_protected"] != true || got["password"] != first {
		t.Fatalf("want password_protected and the hash in the superuser's answer: %s", out)
	}
	if join("wrong") != http.StatusForbidden || join("open sesame") != http.StatusOK {
		t.Fatal("members must join with the password the operator set, and only with it")
	}

	// the dashboard sends the stored hash back with every other edit
	testutil.WantStatus(t, srv, http.MethodPatch, url, root, map[string]any{"name": "Salon", "password": first, "password_protected": true}, http.StatusOK, "")
	if rawColumn() != first || join("open sesame") != http.StatusOK {
		t.Fatal("an edit of another field must keep the password")
	}

	// setting it again re-hashes
	testutil.WantStatus(t, srv, http.MethodPatch, url, root, map[string]any{"password": "new secret"}, http.StatusOK, "")
	if second := rawColumn(); second == first || !strings.HasPrefix(second, "$2a$") {
		t.Fatalf("a new password must be hashed anew: %q", second)
	}
	if join("open sesame") != http.StatusForbidden || join("new secret") != http.StatusOK {
		t.Fatal("only the new password opens the room")
	}

	// too short: a clear 400, nothing changed
	testutil.WantStatus(t, srv, http.MethodPatch, url, root, map[string]any{"password": "abc"}, http.StatusBadRequest, "4 to 71")

	// members never see it
	member := testutil.Token(t, testutil.CreateUser(t, app, testutil.User{}))
	if _, body := srv.Do(t, http.MethodGet, url, member, nil); strings.Contains(string(body), `"password"`) {
		t.Fatalf("a member sees the password field: %s", body)
	}

	// an empty value clears it
	out = testutil.WantStatus(t, srv, http.MethodPatch, url, root, map[string]any{"password": ""}, http.StatusOK, "")
	if rawColumn() != "" || testutil.Decode[map[string]any](t, out)["password_protected"] != false {
		t.Fatalf("an empty password must remove it: %s", out)
	}
	if join("") != http.StatusOK {
		t.Fatal("a room without a password is joined without one")
	}

	// an app admin (role=admin) sets one through the API just the same
	admin := testutil.Token(t, testutil.CreateUser(t, app, testutil.User{Role: "admin"}))
	testutil.WantStatus(t, srv, http.MethodPatch, url, admin, map[string]any{"password": "admins too"}, http.StatusOK, "")
	if v := rawColumn(); !strings.HasPrefix(v, "$2a$") || join("admins too") != http.StatusOK {
		t.Fatalf("an app admin's room password: %q", v)
	}
}
