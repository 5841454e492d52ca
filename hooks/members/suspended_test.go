package members_test

import (
	"net/http"
	"strings"
	"testing"

	"salonbase/testutil"
)

// A member whose token stopped working because they were suspended is told
// so ("suspended", in words), and only a real token of theirs gets that
// answer: a made-up token, another member's stale token and the same token
// after the suspension was lifted get the plain 401.
func TestSuspendedMembersTokenSaysSuspended(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	admin := testutil.CreateUser(t, app, testutil.User{Role: "admin"})
	dan := testutil.CreateUser(t, app, testutil.User{Name: "Dan"})
	eve := testutil.CreateUser(t, app, testutil.User{Name: "Eve"})
	danToken, eveToken := testutil.Token(t, dan), testutil.Token(t, eve)
	at := testutil.Token(t, admin)

	refresh := "/api/collections/users/auth-refresh"
	testutil.WantStatus(t, srv, http.MethodPost, refresh, danToken, nil, http.StatusOK, "")
	testutil.WantStatus(t, srv, http.MethodPatch, testutil.UsersURL+"/"+dan.Id, at, map[string]any{"suspended": true}, http.StatusOK, "")

	for _, path := range []string{refresh, "/api/salon/notifications/unread-count", testutil.UsersURL + "/" + dan.Id} {
		method := http.MethodGet
		if path == refresh {
			method = http.MethodPost
		}
		out := testutil.WantStatus(t, srv, method, path, danToken, nil, http.StatusUnauthorized, `"code":"suspended"`)
		if !strings.Contains(string(out), "This account is suspended") {
			t.Errorf("%s: want the reason in words, got %s", path, out)
		}
	}

	// the old key is the server's: neither the member nor an admin sees it
	for _, token := range []string{at} {
		out := testutil.WantStatus(t, srv, http.MethodGet, testutil.UsersURL+"/"+dan.Id, token, nil, http.StatusOK, "")
		if strings.Contains(string(out), "suspended_token_key") {
			t.Errorf("the old token key is shown: %s", out)
		}
	}

	// a token made up for Dan's id, signed with some other key: plain 401
	fake := dan.Clone()
	fake.RefreshTokenKey()
	forged, err := fake.NewAuthToken()
	if err != nil {
		t.Fatal(err)
	}
	if _, out := srv.Do(t, http.MethodPost, refresh, forged, nil); strings.Contains(string(out), "suspended") {
		t.Errorf("a made-up token learns that Dan is suspended: %s", out)
	}

	// Eve's token stops working for another reason (her key changed): plain 401
	eveRec, err := app.FindRecordById("users", eve.Id)
	if err != nil {
		t.Fatal(err)
	}
	eveRec.RefreshTokenKey()
	if err := app.Save(eveRec); err != nil {
		t.Fatal(err)
	}
	if status, out := srv.Do(t, http.MethodPost, refresh, eveToken, nil); status != http.StatusUnauthorized || strings.Contains(string(out), "suspended") {
		t.Errorf("a member who is not suspended: want a plain 401, got %d %s", status, out)
	}

	// lifted: the old token does not come back, and no longer says suspended
	testutil.WantStatus(t, srv, http.MethodPatch, testutil.UsersURL+"/"+dan.Id, at, map[string]any{"suspended": false}, http.StatusOK, "")
	if status, out := srv.Do(t, http.MethodPost, refresh, danToken, nil); status != http.StatusUnauthorized || strings.Contains(string(out), "suspended") {
		t.Errorf("after the suspension was lifted: want a plain 401, got %d %s", status, out)
	}
	danRec, err := app.FindRecordById("users", dan.Id)
	if err != nil || danRec.GetString("suspended_token_key") != "" {
		t.Errorf("the old key is kept after the suspension was lifted: %v", err)
	}
}
