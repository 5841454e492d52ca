package members_test

import (
	"bytes"
	"image"
	"image/png"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"

	"salonbase/testutil"
)

func TestSignupGetsDefaultsAndCannotSetPrivileges(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	member := testutil.CreateUser(t, app, testutil.User{})
	gold := testutil.RankID(t, app, "Gold")

	signup := func(extra map[string]any) (int, []byte) {
		body := map[string]any{
			"email": "new" + strings.Repeat("x", len(extra)) + "@example.com", "password": "12345678901",
			"passwordConfirm": "12345678901", "name": "New Member",
		}
		for k, v := range extra {
			body[k] = v
		}
		return srv.Do(t, http.MethodPost, testutil.UsersURL, "", body)
	}

	for field, value := range map[string]any{
		"rank": gold, "role": "admin", "invited_by": member.Id, "suspended": true, "verified": true,
	} {
		t.Run("signup sets "+field, func(t *testing.T) {
			status, body := signup(map[string]any{field: value})
			if status != http.StatusBadRequest || !strings.Contains(string(body), "Only admins can set "+field) {
				t.Fatalf("want 400 naming %s, got %d %s", field, status, body)
			}
		})
	}

	status, body := signup(nil)
	if status != http.StatusOK {
		t.Fatalf("plain signup: %d %s", status, body)
	}
	created, err := app.FindAuthRecordByEmail("users", "new@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if created.GetString("role") != "member" || created.GetString("rank") != testutil.RankID(t, app, "Free") {
		t.Fatalf("new member must be a Free member, got %v", created.PublicExport())
	}
	if n, _ := app.CountRecords("users"); n != 2 {
		t.Fatalf("the refused signups must write nothing: %d users", n)
	}
}

func TestMemberCannotChangeOwnPrivileges(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	me := testutil.CreateUser(t, app, testutil.User{Rank: "Silver"})
	other := testutil.CreateUser(t, app, testutil.User{})
	token := testutil.Token(t, me)

	for field, value := range map[string]any{
		"rank": testutil.RankID(t, app, "Platinum"), "role": "admin", "invited_by": other.Id,
		"suspended": true, "verified": true,
	} {
		t.Run(field, func(t *testing.T) {
			status, body := srv.Do(t, http.MethodPatch, testutil.UsersURL+"/"+me.Id, token, map[string]any{field: value})
			if status != http.StatusBadRequest || !strings.Contains(string(body), "Only admins can set "+field) {
				t.Fatalf("want 400 naming %s, got %d %s", field, status, body)
			}
		})
	}

	fresh, _ := app.FindRecordById("users", me.Id)
	if fresh.GetString("rank") != me.GetString("rank") || fresh.GetString("role") != "member" ||
		fresh.GetBool("suspended") || fresh.GetString("invited_by") != "" {
		t.Fatalf("nothing may have changed: %v", fresh.PublicExport())
	}

	// a client that sends its unchanged record back is not refused
	status, body := srv.Do(t, http.MethodPatch, testutil.UsersURL+"/"+me.Id, token, map[string]any{
		"name": "Renamed", "bio": "hello", "rank": me.GetString("rank"), "role": "member", "suspended": false,
	})
	if status != http.StatusOK || !strings.Contains(string(body), `"name":"Renamed"`) {
		t.Fatalf("profile edit: %d %s", status, body)
	}

	// and nobody edits someone else's profile (they see it: 403 and why)
	testutil.WantStatus(t, srv, http.MethodPatch, testutil.UsersURL+"/"+other.Id, token, map[string]any{"name": "Hacked"}, http.StatusForbidden, `"code":"not_yours"`)
}

func TestAdminsChangePrivileges(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	admin := testutil.CreateUser(t, app, testutil.User{Role: "admin"})
	member := testutil.CreateUser(t, app, testutil.User{})
	platinum := testutil.RankID(t, app, "Platinum")

	for _, token := range []string{testutil.Token(t, admin), testutil.SuperuserToken(t, app)} {
		status, body := srv.Do(t, http.MethodPatch, testutil.UsersURL+"/"+member.Id, token, map[string]any{
			"rank": platinum, "role": "tutor", "verified": true,
		})
		if status != http.StatusOK {
			t.Fatalf("admin update: %d %s", status, body)
		}
		fresh, _ := app.FindRecordById("users", member.Id)
		if fresh.GetString("rank") != platinum || fresh.GetString("role") != "tutor" || !fresh.Verified() {
			t.Fatalf("admin change not applied: %v", fresh.PublicExport())
		}
	}
}

func TestProfilesArePublicButPrivateFieldsAreNot(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	inviter := testutil.CreateUser(t, app, testutil.User{Name: "Inviter"})
	alice := testutil.CreateUser(t, app, testutil.User{Name: "Alice", Email: "alice-private@example.com", Rank: "Gold"})
	alice.Set("invited_by", inviter.Id)
	alice.Set("bio", "I draw.")
	alice.Set("emailVisibility", true) // a member cannot publish their e-mail
	if err := app.Save(alice); err != nil {
		t.Fatal(err)
	}
	bob := testutil.CreateUser(t, app, testutil.User{})
	admin := testutil.CreateUser(t, app, testutil.User{Role: "admin"})

	// another member sees the public profile only, in a view and in a list
	check := func(where, s string) {
		for _, want := range []string{`"name":"Alice"`, `"bio":"I draw."`, `"role":"member"`, `"rank":"`} {
			if !strings.Contains(s, want) {
				t.Errorf("%s: missing %s in %s", where, want, s)
			}
		}
		for _, hidden := range []string{"alice-private@example.com", `"invited_by"`, `"suspended"`, `"verified"`, `"emailVisibility"`, `"email"`, inviter.Id} {
			if strings.Contains(s, hidden) {
				t.Errorf("%s: %s must not be shown to another member: %s", where, hidden, s)
			}
		}
	}
	status, body := srv.Do(t, http.MethodGet, testutil.UsersURL+"/"+alice.Id+"?expand=invited_by,rank", testutil.Token(t, bob), nil)
	if status != http.StatusOK {
		t.Fatalf("view: %d %s", status, body)
	}
	check("view", string(body))
	status, body = srv.Do(t, http.MethodGet, testutil.UsersURL+"?expand=invited_by&filter="+testutil.Urlq("id='"+alice.Id+"'"), testutil.Token(t, bob), nil)
	if status != http.StatusOK || !strings.Contains(string(body), `"totalItems":1`) {
		t.Fatalf("list: %d %s", status, body)
	}
	check("list", string(body))

	// filtering by a private field would leak it
	for _, q := range []string{"?filter=" + testutil.Urlq("invited_by='"+inviter.Id+"'"), "?sort=suspended"} {
		status, body := srv.Do(t, http.MethodGet, testutil.UsersURL+q, testutil.Token(t, bob), nil)
		if status != http.StatusBadRequest || !strings.Contains(string(body), "private field") {
			t.Errorf("%s: want 400, got %d %s", q, status, body)
		}
	}

	// the member and the admins see everything
	for _, token := range []string{testutil.Token(t, alice), testutil.Token(t, admin)} {
		status, body := srv.Do(t, http.MethodGet, testutil.UsersURL+"/"+alice.Id, token, nil)
		if status != http.StatusOK || !strings.Contains(string(body), "alice-private@example.com") ||
			!strings.Contains(string(body), inviter.Id) {
			t.Fatalf("owner/admin view: %d %s", status, body)
		}
	}

	// anonymous visitors and guests see no member at all
	guests, _ := app.FindCollectionByNameOrId("guests")
	guest := testutil.NewRecord(guests, map[string]any{"name": "Visitor"})
	guest.SetPassword("unused-random-password")
	if err := app.Save(guest); err != nil {
		t.Fatal(err)
	}
	for who, token := range map[string]string{"anonymous": "", "guest": testutil.Token(t, guest)} {
		status, body := srv.Do(t, http.MethodGet, testutil.UsersURL, token, nil)
		if status != http.StatusOK || !strings.Contains(string(body), `"totalItems":0`) {
			t.Errorf("%s list users: %d %s", who, status, body)
		}
		status, _ = srv.Do(t, http.MethodGet, testutil.UsersURL+"/"+alice.Id, token, nil)
		if status != http.StatusNotFound {
			t.Errorf("%s view user: want 404, got %d", who, status)
		}
		for _, c := range []string{"ranks", "salon_settings", "follows", "invite_codes", "reports", "blocks", "notifications"} {
			status, body := srv.Do(t, http.MethodGet, "/api/collections/"+c+"/records", token, nil)
			if status != http.StatusOK || !strings.Contains(string(body), `"totalItems":0`) {
				t.Errorf("%s list %s: %d %s", who, c, status, body)
			}
		}
	}
}

func TestSuspensionTakesEffectAtOnce(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	admin := testutil.CreateUser(t, app, testutil.User{Role: "admin"})
	member := testutil.CreateUser(t, app, testutil.User{Email: "sus@example.com"})
	token := testutil.Token(t, member)

	rt := srv.Subscribe(t, token, "users/"+member.Id)

	if status, _ := srv.Do(t, http.MethodGet, testutil.UsersURL, token, nil); status != http.StatusOK {
		t.Fatalf("before: %d", status)
	}
	status, body := srv.Do(t, http.MethodPatch, testutil.UsersURL+"/"+member.Id, testutil.Token(t, admin), map[string]any{"suspended": true})
	if status != http.StatusOK {
		t.Fatalf("suspend: %d %s", status, body)
	}

	// the old token no longer authenticates: it sees nothing, and is told
	// why (401, code suspended)
	status, body = srv.Do(t, http.MethodGet, testutil.UsersURL, token, nil)
	if status != http.StatusUnauthorized || !strings.Contains(string(body), `"code":"suspended"`) || strings.Contains(string(body), "sus@example.com") {
		t.Fatalf("suspended token must see nothing and be told why: %d %s", status, body)
	}
	if status, _ := srv.Do(t, http.MethodPost, "/api/collections/users/auth-refresh", token, nil); status != http.StatusUnauthorized {
		t.Fatalf("auth-refresh with the old token: want 401, got %d", status)
	}
	// logging in again is refused
	status, body = srv.Do(t, http.MethodPost, "/api/collections/users/auth-with-password", "", map[string]any{
		"identity": "sus@example.com", "password": testutil.DefaultPassword,
	})
	if status != http.StatusForbidden || !strings.Contains(string(body), "suspended") {
		t.Fatalf("login while suspended: %d %s", status, body)
	}
	// the realtime connection lost its auth: the update event (needs auth by
	// the view rule) is not delivered to it
	if ev, ok := rt.Next(500 * time.Millisecond); ok {
		t.Fatalf("suspended member's realtime connection still received %s", ev.Data)
	}
}

func TestAvatarsAreRasterImagesOnly(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	me := testutil.CreateUser(t, app, testutil.User{})
	token := testutil.Token(t, me)

	var pngBuf bytes.Buffer
	_ = png.Encode(&pngBuf, image.NewRGBA(image.Rect(0, 0, 4, 4)))
	svg := []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`)

	for _, c := range []struct {
		name   string
		data   []byte
		status int
	}{
		{"evil.svg", svg, http.StatusBadRequest},
		{"evil.png", svg, http.StatusBadRequest}, // the content decides, not the name
		{"me.png", pngBuf.Bytes(), http.StatusOK},
	} {
		var body bytes.Buffer
		w := multipart.NewWriter(&body)
		fw, _ := w.CreateFormFile("avatar", c.name)
		fw.Write(c.data)
		w.Close()
		req, _ := http.NewRequest(http.MethodPatch, srv.URL+testutil.UsersURL+"/"+me.Id, &body)
		req.Header.Set("Content-Type", w.FormDataContentType())
		req.Header.Set("Authorization", token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != c.status {
			t.Errorf("%s: want %d, got %d", c.name, c.status, res.StatusCode)
		}
	}
}

func TestRateLimitsAreOnForSignupAndLogin(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	testutil.EnableRateLimits(t, app)
	srv := testutil.Serve(t, app)
	testutil.CreateUser(t, app, testutil.User{Email: "rl@example.com"})

	var last int
	for i := 0; i < 11; i++ {
		last, _ = srv.Do(t, http.MethodPost, "/api/collections/users/auth-with-password", "", map[string]any{
			"identity": "rl@example.com", "password": "wrong-password",
		})
	}
	if last != http.StatusTooManyRequests {
		t.Fatalf("11th login attempt in a minute: want 429, got %d", last)
	}

	for i := 0; i < 11; i++ {
		last, _ = srv.Do(t, http.MethodPost, testutil.UsersURL, "", map[string]any{
			"email": "rl" + string(rune('a'+i)) + "@example.com", "password": "12345678901",
			"passwordConfirm": "12345678901", "name": "X",
		})
	}
	if last != http.StatusTooManyRequests {
		t.Fatalf("11th signup in an hour from one IP: want 429, got %d", last)
	}
}

// The API rules refuse privilege changes on their own, behind the Go guard:
// evaluate them directly as PocketBase does for a request.
func TestUsersRulesAloneRefusePrivileges(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	member := testutil.CreateUser(t, app, testutil.User{})
	admin := testutil.CreateUser(t, app, testutil.User{Role: "admin"})
	users, _ := app.FindCollectionByNameOrId("users")
	gold := testutil.RankID(t, app, "Gold")

	for field, value := range map[string]any{
		"rank": gold, "role": "admin", "invited_by": admin.Id, "suspended": true, "verified": true,
	} {
		body := map[string]any{field: value}
		for rule, name := range map[*string]string{users.UpdateRule: "update", users.CreateRule: "create"} {
			info := &core.RequestInfo{Auth: member, Body: body, Method: "PATCH"}
			if ok, _ := app.CanAccessRecord(member, info, rule); ok {
				t.Errorf("%s rule lets a member set %s", name, field)
			}
			info.Auth = admin
			if ok, _ := app.CanAccessRecord(member, info, rule); !ok {
				t.Errorf("%s rule refuses an admin setting %s", name, field)
			}
		}
	}
	info := &core.RequestInfo{Auth: member, Body: map[string]any{"name": "ok"}}
	if ok, _ := app.CanAccessRecord(member, info, users.UpdateRule); !ok {
		t.Error("update rule refuses a plain profile edit")
	}
}

func TestRealtimeFilterOnPrivateFieldRefused(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	member := testutil.CreateUser(t, app, testutil.User{})
	rt := srv.Subscribe(t, testutil.Token(t, member), "users")
	sub := `users/*?options=` + testutil.Urlq(`{"query":{"filter":"invited_by='abc'"}}`)
	status, body := srv.Do(t, http.MethodPost, "/api/realtime", testutil.Token(t, member), map[string]any{
		"clientId": rt.ClientID, "subscriptions": []string{sub},
	})
	if status != http.StatusBadRequest || !strings.Contains(string(body), "private field") {
		t.Fatalf("want 400, got %d %s", status, body)
	}
}
