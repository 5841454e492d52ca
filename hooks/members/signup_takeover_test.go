package members_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"salonbase/hooks/members"
	"salonbase/hooks/salon"
	"salonbase/testutil"
)

// Someone signs up first with an address that is not theirs (a Gold invite
// code, their own name and password). When the address's owner signs up
// later, their signup replaces the unconfirmed one: the account they confirm
// has their name, password and rank, nothing of the first signer's, and the
// first signer's confirmation link and password no longer work.
func TestUnconfirmedSignupIsReplacedByANewerOne(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	ms := testutil.StartMailServer(t)
	testutil.UseMailServer(t, app, ms)
	srv := testutil.Serve(t, app)
	inviter := testutil.CreateUser(t, app, testutil.User{})
	gold := newInvite(t, app, inviter, map[string]any{"max_uses": 10, "rank": testutil.RankID(t, app, "Gold")})

	signup := func(name, password, code string) string {
		t.Helper()
		body := signupBody("victor@example.com", code)
		body["name"], body["password"], body["passwordConfirm"] = name, password, password
		status, out := srv.Do(t, http.MethodPost, testutil.UsersURL, "", body)
		if status != http.StatusOK || !strings.Contains(string(out), `"confirm_email"`) {
			t.Fatalf("signup as %s: %d %s", name, status, out)
		}
		return string(out)
	}
	login := func(password string) int {
		t.Helper()
		status, _ := srv.Do(t, http.MethodPost, "/api/collections/users/auth-with-password", "",
			map[string]any{"identity": "victor@example.com", "password": password})
		return status
	}
	linkOf := func(m testutil.ReceivedMail) string {
		t.Helper()
		token := regexp.MustCompile(`/auth/confirm-verification/([\w.-]+)`).FindStringSubmatch(m.HTML)
		if token == nil {
			t.Fatalf("no confirmation link in %q", m.HTML)
		}
		return token[1]
	}
	confirm := func(token string) int {
		t.Helper()
		status, _ := srv.Do(t, http.MethodPost, "/api/collections/users/confirm-verification", "", map[string]any{"token": token})
		return status
	}

	first := signup("Mallory", "mallory-pass-1", gold.GetString("code"))
	malloryLink := linkOf(ms.WaitFor(t, 1)[0])
	second := signup("Victor", "victor-pass-1", "")
	if first != second {
		t.Fatalf("the answers differ: %s / %s", first, second)
	}
	victorLink := linkOf(ms.WaitFor(t, 2)[1])

	if status := confirm(malloryLink); status == http.StatusNoContent {
		t.Fatal("the replaced signup's link still confirms the address")
	}
	if status := confirm(victorLink); status != http.StatusNoContent {
		t.Fatalf("the owner's link: %d", status)
	}
	if status := login("mallory-pass-1"); status != http.StatusBadRequest {
		t.Fatalf("the first signer's password: %d", status)
	}
	if status := login("victor-pass-1"); status != http.StatusOK {
		t.Fatalf("the owner's login: %d", status)
	}
	n, err := app.CountRecords("users", testutil.DbxHash("email", "victor@example.com"))
	if err != nil || n != 1 {
		t.Fatalf("%d accounts for the address (%v)", n, err)
	}
	victor, err := app.FindAuthRecordByEmail("users", "victor@example.com")
	if err != nil {
		t.Fatal(err)
	}
	lowest, _ := salon.LowestRankID(app)
	if victor.GetString("name") != "Victor" || victor.GetString("rank") != lowest || victor.GetString("invited_by") != "" || !victor.Verified() {
		t.Fatalf("the owner's account: name %q rank %q invited_by %q verified %t",
			victor.GetString("name"), victor.GetString("rank"), victor.GetString("invited_by"), victor.Verified())
	}

	// once confirmed, the account is the owner's: a later signup changes nothing
	signup("Mallory", "mallory-pass-2", gold.GetString("code"))
	if status := login("victor-pass-1"); status != http.StatusOK {
		t.Fatalf("the owner's login after another signup: %d", status)
	}
	if got := testutil.Reload(t, app, victor).GetString("name"); got != "Victor" {
		t.Fatalf("name after another signup: %q", got)
	}
}

// Unconfirmed signups are deleted by the hourly job once they are older than
// members.UnconfirmedSignupTTL; younger ones and members are kept.
func TestUnconfirmedSignupsArePurged(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	member := testutil.CreateUser(t, app, testutil.User{})
	for _, email := range []string{"a@example.com", "b@example.com"} {
		if status, out := srv.Do(t, http.MethodPost, testutil.UsersURL, "", signupBody(email, "")); status != http.StatusOK {
			t.Fatalf("signup: %d %s", status, out)
		}
	}
	// one of them confirms their address
	b, err := app.FindAuthRecordByEmail("users", "b@example.com")
	if err != nil {
		t.Fatal(err)
	}
	b.SetVerified(true)
	if err := app.Save(b); err != nil {
		t.Fatal(err)
	}

	if n, err := members.PurgeUnconfirmedSignups(app, time.Now().Add(members.UnconfirmedSignupTTL-time.Hour)); err != nil || n != 0 {
		t.Fatalf("before the TTL: purged %d (%v)", n, err)
	}
	n, err := members.PurgeUnconfirmedSignups(app, time.Now().Add(members.UnconfirmedSignupTTL+time.Minute))
	if err != nil || n != 1 {
		t.Fatalf("after the TTL: purged %d, want 1 (%v)", n, err)
	}
	if _, err := app.FindAuthRecordByEmail("users", "a@example.com"); err == nil {
		t.Fatal("the unconfirmed signup is still there")
	}
	for _, email := range []string{"b@example.com", member.Email()} {
		if _, err := app.FindAuthRecordByEmail("users", email); err != nil {
			t.Fatalf("%s was purged: %v", email, err)
		}
	}
	// the address is free again: a new signup for it is a new account
	if status, out := srv.Do(t, http.MethodPost, testutil.UsersURL, "", signupBody("a@example.com", "")); status != http.StatusOK {
		t.Fatalf("signup again: %d %s", status, out)
	}
}
