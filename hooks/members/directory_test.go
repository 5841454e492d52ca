package members_test

import (
	"net/http"
	"slices"
	"testing"

	"salonbase/testutil"
)

// The member directory (and every members' list: mention and invite
// pickers) leaves out suspended members and signups whose address is not
// confirmed; admins list everyone, and a single record stays viewable so
// an old post's author keeps a name.
func TestDirectoryListsOnlyActiveMembers(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	admin := testutil.CreateUser(t, app, testutil.User{Name: "Ada", Role: "admin"})
	amy := testutil.CreateUser(t, app, testutil.User{Name: "Amy"})
	bob := testutil.CreateUser(t, app, testutil.User{Name: "Bob"})
	sue := testutil.CreateUser(t, app, testutil.User{Name: "Sue", Suspended: true})
	pam := testutil.CreateUser(t, app, testutil.User{Name: "Pam"})
	pam.Set("signup_pending", true)
	pam.SetVerified(false)
	if err := app.Save(pam); err != nil {
		t.Fatal(err)
	}

	names := func(token string) []string {
		t.Helper()
		out := testutil.WantStatus(t, srv, http.MethodGet, testutil.UsersURL+"?perPage=100&sort=name", token, nil, http.StatusOK, "")
		list := testutil.Decode[struct {
			Items []struct {
				Name string `json:"name"`
			} `json:"items"`
		}](t, out)
		var got []string
		for _, it := range list.Items {
			got = append(got, it.Name)
		}
		return got
	}

	if got := names(testutil.Token(t, amy)); !slices.Equal(got, []string{"Ada", "Amy", "Bob"}) {
		t.Errorf("a member lists %v, want the active members Ada, Amy, Bob", got)
	}
	if got := names(testutil.Token(t, admin)); !slices.Equal(got, []string{"Ada", "Amy", "Bob", "Pam", "Sue"}) {
		t.Errorf("an admin lists %v, want everyone", got)
	}
	// filtering by name does not bring them back
	out := testutil.WantStatus(t, srv, http.MethodGet, testutil.UsersURL+"?filter="+testutil.Urlq("name='Sue' || name='Pam'"), testutil.Token(t, bob), nil, http.StatusOK, "")
	if n := testutil.Decode[struct {
		TotalItems int `json:"totalItems"`
	}](t, out).TotalItems; n != 0 {
		t.Errorf("a member finds %d of Sue and Pam by name, want 0", n)
	}
	// one record by id: still there, so an old post's author has a name
	testutil.WantStatus(t, srv, http.MethodGet, testutil.UsersURL+"/"+sue.Id, testutil.Token(t, amy), nil, http.StatusOK, `"name":"Sue"`)
}
