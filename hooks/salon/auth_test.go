package salon_test

import (
	"net/http"
	"strings"
	"testing"

	"salonbase/testutil"
)

// A token is checked against the database. When the database cannot answer
// that check, the member is told to try again (503), never that they are
// signed out; a token that does not verify still makes a visitor.
func TestAuthWhenTheDatabaseFails(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	member := testutil.CreateUser(t, app, testutil.User{})
	gone := testutil.CreateUser(t, app, testutil.User{})
	tok, goneTok := testutil.Token(t, member), testutil.Token(t, gone)
	if err := app.Delete(gone); err != nil {
		t.Fatal(err)
	}
	srv := testutil.Serve(t, app)
	const refresh = "/api/collections/users/auth-refresh"

	for _, c := range []struct {
		name, token string
		want        int
	}{
		{"signed in", tok, http.StatusOK},
		{"signed in, Bearer", "Bearer " + tok, http.StatusOK},
		{"made-up token", "a.b.c", http.StatusUnauthorized},
		{"member deleted", goneTok, http.StatusUnauthorized},
		{"token of another key", tok[:len(tok)-2] + "xx", http.StatusUnauthorized},
	} {
		if status, body := srv.Do(t, http.MethodPost, refresh, c.token, nil); status != c.want {
			t.Errorf("%s: %d %s, want %d", c.name, status, body, c.want)
		}
	}

	// the members table unreadable: a database error, not a bad token
	exec := func(q string) {
		t.Helper()
		if _, err := app.NonconcurrentDB().NewQuery(q).Execute(); err != nil {
			t.Fatal(err)
		}
	}
	exec("ALTER TABLE users RENAME TO users_away")
	status, body := srv.Do(t, http.MethodPost, refresh, tok, nil)
	if status != http.StatusServiceUnavailable || !strings.Contains(string(body), `"auth_unavailable"`) {
		t.Fatalf("database failing: %d %s, want 503 auth_unavailable", status, body)
	}
	// a made-up token never reaches the database: still a visitor
	if status, body := srv.Do(t, http.MethodPost, refresh, "a.b.c", nil); status != http.StatusUnauthorized {
		t.Fatalf("made-up token, database failing: %d %s", status, body)
	}
	exec("ALTER TABLE users_away RENAME TO users")
	if status, body := srv.Do(t, http.MethodPost, refresh, tok, nil); status != http.StatusOK {
		t.Fatalf("database back: %d %s", status, body)
	}
}
