package members_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"salonbase/testutil"
)

// An attacker signs up with addresses to learn which are members'. Every
// answer they can see (the signup's status and body, a refusal for bad
// input, the login with the password they chose, the invite code's use
// count) must be the same for a member's address and a new one; the member
// hears of it by mail, and the new address's owner finishes by the link.
func TestSignupCannotTellMembersAddressesApart(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	ms := testutil.StartMailServer(t)
	testutil.UseMailServer(t, app, ms)
	srv := testutil.Serve(t, app)
	owner := testutil.CreateUser(t, app, testutil.User{})
	member := testutil.CreateUser(t, app, testutil.User{Email: "alice@example.com", Name: "Alice"})
	code := newInvite(t, app, owner, map[string]any{"max_uses": 10})

	signup := func(email, password, confirm string) (int, string) {
		t.Helper()
		body := signupBody(email, code.GetString("code"))
		body["password"], body["passwordConfirm"] = password, confirm
		status, out := srv.Do(t, http.MethodPost, testutil.UsersURL, "", body)
		return status, string(out)
	}
	login := func(email, password string) (int, string) {
		t.Helper()
		status, out := srv.Do(t, http.MethodPost, "/api/collections/users/auth-with-password", "",
			map[string]any{"identity": email, "password": password})
		return status, string(out)
	}
	uses := func() int { return testutil.Reload(t, app, code).GetInt("uses") }

	// bad input is refused alike, and uses nothing up
	for _, bad := range [][2]string{{"short", "short"}, {"12345678901", "10987654321"}} {
		s1, b1 := signup("alice@example.com", bad[0], bad[1])
		s2, b2 := signup("newcomer@example.com", bad[0], bad[1])
		if s1 != http.StatusBadRequest || s1 != s2 || b1 != b2 {
			t.Fatalf("bad input %v: member's address %d %s, new address %d %s", bad, s1, b1, s2, b2)
		}
	}
	if uses() != 0 {
		t.Fatalf("refused signups used the code: %d", uses())
	}

	// a well-formed signup: the same answer for both
	s1, b1 := signup("alice@example.com", "attacker-pass-1", "attacker-pass-1")
	s2, b2 := signup("newcomer@example.com", "attacker-pass-1", "attacker-pass-1")
	if s1 != http.StatusOK || s1 != s2 || b1 != b2 || strings.Contains(b1, "@") {
		t.Fatalf("member's address %d %s, new address %d %s", s1, b1, s2, b2)
	}
	if !strings.Contains(b1, `"status":"confirm_email"`) {
		t.Fatalf("answer: %s", b1)
	}
	// the code counts both
	if uses() != 2 {
		t.Fatalf("uses = %d, want 2", uses())
	}
	// logging in with the chosen password fails alike (the new account waits
	// for its address to be confirmed)
	l1, lb1 := login("alice@example.com", "attacker-pass-1")
	l2, lb2 := login("newcomer@example.com", "attacker-pass-1")
	if l1 != http.StatusBadRequest || l1 != l2 || lb1 != lb2 {
		t.Fatalf("login: member's address %d %s, new address %d %s", l1, lb1, l2, lb2)
	}

	// the member is untouched and told; the newcomer gets the confirmation link
	if status, body := login("alice@example.com", testutil.DefaultPassword); status != http.StatusOK {
		t.Fatalf("the member's own login: %d %s", status, body)
	}
	mails := ms.WaitFor(t, 2)
	var warning, confirm testutil.ReceivedMail
	for _, m := range mails {
		switch strings.ToLower(m.To[0]) {
		case "alice@example.com":
			warning = m
		case "newcomer@example.com":
			confirm = m
		}
	}
	if !strings.Contains(warning.Subject, "someone tried to sign up") ||
		!strings.Contains(warning.Text, "https://salon.example.com/auth/confirm-password-reset/") {
		t.Fatalf("the member's mail: %q %q", warning.Subject, warning.Text)
	}
	token := regexp.MustCompile(`/auth/confirm-verification/([\w.-]+)`).FindStringSubmatch(confirm.HTML)
	if token == nil {
		t.Fatalf("no confirmation link in %q", confirm.HTML)
	}

	// more signups with the member's address within the hour: no more mail
	signup("alice@example.com", "attacker-pass-2", "attacker-pass-2")
	time.Sleep(300 * time.Millisecond) // the worker would have sent it by now
	if n := len(ms.Messages()); n != 2 {
		t.Fatalf("%d mails, want 2: a member's mailbox must not be flooded", n)
	}

	// the newcomer follows the link and can log in
	if status, body := srv.Do(t, http.MethodPost, "/api/collections/users/confirm-verification", "",
		map[string]any{"token": token[1]}); status != http.StatusNoContent {
		t.Fatalf("confirm: %d %s", status, body)
	}
	if status, body := login("newcomer@example.com", "attacker-pass-1"); status != http.StatusOK {
		t.Fatalf("login after confirming: %d %s", status, body)
	}
	if _, err := app.FindAuthRecordByEmail("users", member.Email()); err != nil {
		t.Fatal(err)
	}
}
