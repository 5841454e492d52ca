package members_test

import (
	"net/http"
	"strings"
	"testing"

	"salonbase/testutil"
)

// An attacker probes private fields one yes/no at a time through filters,
// sorts and expands on other collections, relation paths and
// back-relations. Every such probe is refused with a 400 that names the
// field, while the member and the admins still read their values.
func TestPrivateFieldsCannotBeProbed(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	inviter := testutil.CreateUser(t, app, testutil.User{Name: "Inviter"})
	target := testutil.CreateUser(t, app, testutil.User{Name: "Target", Rank: "Gold"})
	target.Set("invited_by", inviter.Id)
	target.Set("lang", "ja")
	if err := app.Save(target); err != nil {
		t.Fatal(err)
	}
	testutil.CreateUser(t, app, testutil.User{Suspended: true})
	spy := testutil.CreateUser(t, app, testutil.User{Name: "Spy"})
	admin := testutil.CreateUser(t, app, testutil.User{Role: "admin"})
	spyToken := testutil.Token(t, spy)
	if err := app.Save(testutil.NewRecord(testutil.MustCollection(t, app, "follows"), map[string]any{"follower": spy.Id, "followee": target.Id})); err != nil {
		t.Fatal(err)
	}
	dm := testutil.NewRecord(testutil.MustCollection(t, app, "dm_messages"), map[string]any{
		"sender": spy.Id, "recipient": target.Id, "subject": "hi", "body": "hello", "recipient_deleted": true})
	if err := app.Save(dm); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct{ path, field string }{
		{"/api/collections/follows/records?filter=" + testutil.Urlq("followee.lang='ja'"), "lang"},
		{"/api/collections/follows/records?filter=" + testutil.Urlq("followee.verified=true"), "verified"},
		{"/api/collections/follows/records?filter=" + testutil.Urlq("followee.invited_by='"+inviter.Id+"'"), "invited_by"},
		{"/api/collections/follows/records?sort=" + testutil.Urlq("followee.suspended"), "suspended"},
		{"/api/collections/ranks/records?filter=" + testutil.Urlq("users_via_rank.suspended ?= true"), "suspended"},
		{"/api/collections/users/records?filter=" + testutil.Urlq("users_via_invited_by.id ?= '"+target.Id+"'"), "invited_by"},
		{"/api/collections/users/records?filter=" + testutil.Urlq("lang='ja'"), "lang"},
		{"/api/collections/dm_messages/records?filter=" + testutil.Urlq("recipient_deleted=true"), "recipient_deleted"},
	} {
		status, body := srv.Do(t, http.MethodGet, c.path, spyToken, nil)
		if status != http.StatusBadRequest || !strings.Contains(string(body), `"private_field"`) || !strings.Contains(string(body), c.field) {
			t.Errorf("%s: want 400 private_field naming %s, got %d %s", c.path, c.field, status, body)
		}
	}

	// a back-relation expand would list whom the inviter brought in
	status, body := srv.Do(t, http.MethodGet, testutil.UsersURL+"/"+inviter.Id+"?expand=users_via_invited_by", spyToken, nil)
	if status != http.StatusOK || strings.Contains(string(body), target.Id) {
		t.Fatalf("expand users_via_invited_by: %d %s", status, body)
	}
	// the sender does not learn that the recipient deleted the message
	status, body = srv.Do(t, http.MethodGet, "/api/collections/dm_messages/records/"+dm.Id, spyToken, nil)
	if status != http.StatusOK || strings.Contains(string(body), "recipient_deleted") || !strings.Contains(string(body), `"sender_deleted":false`) {
		t.Fatalf("sender's view of a DM: %d %s", status, body)
	}
	// realtime filters on a relation path are refused too
	sub := `follows?options=` + testutil.Urlq(`{"query":{"filter":"followee.lang='ja'"}}`)
	rt := srv.Subscribe(t, spyToken, "follows")
	status, body = srv.Do(t, http.MethodPost, "/api/realtime", spyToken, map[string]any{
		"clientId": rt.ClientID, "subscriptions": []string{sub},
	})
	if status != http.StatusBadRequest || !strings.Contains(string(body), "private_field") {
		t.Fatalf("realtime filter on followee.lang: %d %s", status, body)
	}

	// the member sees their own private fields, admins see everyone's
	for who, token := range map[string]string{"owner": testutil.Token(t, target), "admin": testutil.Token(t, admin)} {
		status, body := srv.Do(t, http.MethodGet, testutil.UsersURL+"/"+target.Id, token, nil)
		for _, want := range []string{`"lang":"ja"`, `"invited_by":"` + inviter.Id + `"`, `"suspended":false`, `"verified":`} {
			if status != http.StatusOK || !strings.Contains(string(body), want) {
				t.Errorf("%s view: missing %s in %d %s", who, want, status, body)
			}
		}
	}
	status, body = srv.Do(t, http.MethodGet, testutil.UsersURL+"/"+inviter.Id+"?expand=users_via_invited_by", testutil.Token(t, admin), nil)
	if status != http.StatusOK || !strings.Contains(string(body), target.Id) {
		t.Fatalf("admin expand users_via_invited_by: %d %s", status, body)
	}
	// hidden fields stay settable by those allowed: a member their lang, an
	// admin a suspension, a DM's sender their own deletion flag
	if status, body := srv.Do(t, http.MethodPatch, testutil.UsersURL+"/"+target.Id, testutil.Token(t, target), map[string]any{"lang": "en"}); status != http.StatusOK || !strings.Contains(string(body), `"lang":"en"`) {
		t.Fatalf("member sets lang: %d %s", status, body)
	}
	if status, body := srv.Do(t, http.MethodPatch, testutil.UsersURL+"/"+inviter.Id, testutil.Token(t, admin), map[string]any{"suspended": true}); status != http.StatusOK || !strings.Contains(string(body), `"suspended":true`) {
		t.Fatalf("admin suspends: %d %s", status, body)
	}
	if status, body := srv.Do(t, http.MethodPatch, "/api/collections/dm_messages/records/"+dm.Id, spyToken, map[string]any{"sender_deleted": true}); status != http.StatusOK && status != http.StatusNotFound {
		t.Fatalf("sender deletes for themselves: %d %s", status, body)
	}
	if r, _ := app.FindRecordById("dm_messages", dm.Id); !r.GetBool("sender_deleted") {
		t.Fatal("sender_deleted was not saved")
	}
	// and a superuser (the dashboard) still filters by them
	status, body = srv.Do(t, http.MethodGet, testutil.UsersURL+"?filter="+testutil.Urlq("lang='en'"), testutil.SuperuserToken(t, app), nil)
	if status != http.StatusOK || !strings.Contains(string(body), target.Id) {
		t.Fatalf("superuser filters by lang: %d %s", status, body)
	}
}
