package demo_test

import (
	"net/http"
	"strings"
	"testing"

	"salonbase/hooks/demo"
	"salonbase/hooks/dm"
	"salonbase/testutil"
)

func TestDemoSalon(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	code, err := demo.Seed(app)
	if err != nil {
		t.Fatal(err)
	}
	srv := testutil.Serve(t, app)
	login := func(email string) string {
		t.Helper()
		status, body := srv.Do(t, http.MethodPost, "/api/collections/users/auth-with-password", "", map[string]any{
			"identity": email, "password": demo.Password,
		})
		if status != http.StatusOK {
			t.Fatalf("demo login %s: %d %s", email, status, body)
		}
		return testutil.Decode[map[string]any](t, body)["token"].(string)
	}
	status, body := srv.Do(t, http.MethodPost, "/api/collections/users/auth-with-password", "", map[string]any{
		"identity": "aiko@example.com", "password": demo.Password,
	})
	if status != http.StatusOK || !strings.Contains(string(body), `"role":"admin"`) {
		t.Fatalf("demo admin login: %d %s", status, body)
	}
	for role, want := range map[string]int{"admin": 1, "tutor": 2} {
		if n, _ := app.CountRecords("users", testutil.DbxHash("role", role)); int(n) != want {
			t.Errorf("%d demo %ss, want %d", n, role, want)
		}
	}
	settings, _ := dm.LoadDMSettings(app)
	if settings.MemberMin.Name != "Gold" || settings.TutorMin.Name != "Platinum" {
		t.Fatalf("demo DM settings: %+v", settings)
	}

	// a living salon, as its members see it through the API
	hana, olivia := login("hana@example.com"), login("olivia@example.com") // Free, Gold
	rooms := func(token string) string {
		return string(testutil.WantStatus(t, srv, http.MethodGet, testutil.RoomsURL+"?perPage=50", token, nil, http.StatusOK, ""))
	}
	if r := rooms(hana); !strings.Contains(r, `"Lounge"`) || !strings.Contains(r, `"Study room"`) || strings.Contains(r, `"Gold lounge"`) {
		t.Errorf("a Free member's rooms: %s", r)
	}
	if r := rooms(olivia); !strings.Contains(r, `"Gold lounge"`) {
		t.Errorf("a Gold member's rooms lack the Gold lounge: %s", r)
	}
	study, err := app.FindFirstRecordByData("rooms", "name", "Study room")
	if err != nil || !study.GetBool("password_protected") {
		t.Fatalf("the password room: %v", err)
	}
	join := "/api/salon/rooms/" + study.Id + "/join"
	testutil.WantStatus(t, srv, http.MethodPost, join, hana, map[string]any{"password": "guess"}, http.StatusForbidden, "")
	testutil.WantStatus(t, srv, http.MethodPost, join, hana, map[string]any{"password": demo.RoomPassword}, http.StatusOK, "")

	for url, want := range map[string]int{
		testutil.CatsURL + "?filter=" + testutil.Urlq("group=''"): 2,
		testutil.TopicsURL:                  3,
		testutil.GroupsURL:                  1,
		"/api/collections/events/records":   1,
		"/api/collections/products/records": 1,
		"/api/collections/live_streams/records?filter=" + testutil.Urlq("status='scheduled'"): 1,
	} {
		if got := testutil.CountItems(t, srv, url, olivia); got != want {
			t.Errorf("GET %s: %d items, want %d", url, got, want)
		}
	}

	// the printed invite code signs a newcomer up as Bronze
	testutil.MustCreate(t, srv, testutil.UsersURL, "", map[string]any{
		"email": "new@example.com", "password": "a-long-password", "passwordConfirm": "a-long-password",
		"name": "Newcomer", "invite_code": code,
	})
	if newcomer, err := app.FindAuthRecordByEmail("users", "new@example.com"); err != nil || newcomer.GetString("rank") != testutil.RankID(t, app, "Bronze") {
		t.Errorf("signed up with the demo code: %v %v, want Bronze", newcomer, err)
	}

	if _, err := demo.Seed(app); err != demo.ErrNotEmpty {
		t.Fatalf("second run must refuse: %v", err)
	}
}
