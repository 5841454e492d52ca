// Package testutil starts real Salonbase apps for tests: a PocketBase app
// on a temp data dir with every migration applied and every hook bound, and
// (with Serve) a real HTTP server in front of it.
package testutil

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
	"golang.org/x/crypto/bcrypt"

	"salonbase/hooks"
	"salonbase/hooks/live"
	"salonbase/hooks/payments"
	"salonbase/hooks/salon"
)

// NewApp returns a fresh test app with the Salonbase schema and hooks: a
// copy of the migrated template data dir (see Main), so a test pays for a
// file copy instead of running every migration. The rate limiter is off (all
// test requests share one IP); tests of the limits turn it back on with
// EnableRateLimits.
func NewApp(t testing.TB) *tests.TestApp {
	t.Helper()
	dir, err := templateDir()
	if err != nil {
		t.Fatalf("test data template: %v", err)
	}
	// NewTestAppWithConfig clones dir into a temp dir of its own and applies
	// any migration the template lacks (none).
	app, err := tests.NewTestAppWithConfig(core.BaseAppConfig{
		DataDir:       dir,
		EncryptionEnv: "pb_test_env",
	})
	if err != nil {
		t.Fatalf("test app: %v", err)
	}
	t.Cleanup(app.Cleanup)

	app.Settings().RateLimits.Enabled = false
	hooks.Register(app)
	// Stripe as the test sets it (StartStripeMock, EnablePayments), never
	// the STRIPE_* variables of the shell that runs the tests
	payments.Configure(app, payments.Config{})
	// media as the test sets it (loopback candidates: live.Configure), never
	// the SALON_RTC_* variables of the shell
	live.Configure(app, live.Config{})
	return app
}

// Main runs a package's tests and then removes the template data dir if it
// was this binary's own (see templateDir); call it from each test package's
// TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if template.private && template.dir != "" {
		os.RemoveAll(template.dir)
	}
	os.Exit(code)
}

// EnableRateLimits turns on the limits our migration configured (call it
// before Serve), each over a window 60 times as long: the tests count the
// requests a limit lets through, and under the race detector on a loaded
// machine 61 requests took longer than the one-minute window, which then
// let the 61st through.
func EnableRateLimits(t testing.TB, app core.App) {
	t.Helper()
	limits := &app.Settings().RateLimits
	limits.Enabled = true
	for i := range limits.Rules {
		limits.Rules[i].Duration *= 60
	}
}

// Factory adapts NewApp to tests.ApiScenario.TestAppFactory; setup runs on
// the new app (create users, records …) before the request.
func Factory(setup func(t testing.TB, app *tests.TestApp)) func(t testing.TB) *tests.TestApp {
	return func(t testing.TB) *tests.TestApp {
		app := NewApp(t)
		if setup != nil {
			setup(t, app)
		}
		return app
	}
}

var userSeq atomic.Int64

// User describes a member to create; zero values get sensible defaults.
type User struct {
	Name      string
	Email     string
	Password  string
	Rank      string // rank name, e.g. "Gold"; default: lowest rank
	Role      string // member (default), tutor, admin
	Suspended bool
}

// DefaultPassword is the password of users created without one.
const DefaultPassword = "1234567890"

// CreateUser saves a member directly (as the dashboard would) and returns it.
func CreateUser(t testing.TB, app core.App, u User) *core.Record {
	t.Helper()
	n := userSeq.Add(1)
	if u.Name == "" {
		u.Name = fmt.Sprintf("Member %d", n)
	}
	if u.Email == "" {
		u.Email = fmt.Sprintf("member%d@example.com", n)
	}
	if u.Password == "" {
		u.Password = DefaultPassword
	}
	if u.Role == "" {
		u.Role = salon.RoleMember
	}
	users, err := app.FindCollectionByNameOrId("users")
	if err != nil {
		t.Fatal(err)
	}
	r := core.NewRecord(users)
	r.SetEmail(u.Email)
	r.SetRaw("password", &core.PasswordFieldValue{Hash: passwordHash(t, u.Password)})
	r.Set("name", u.Name)
	r.Set("role", u.Role)
	r.Set("suspended", u.Suspended)
	if u.Rank != "" {
		r.Set("rank", RankID(t, app, u.Rank))
	} else {
		lowest, err := salon.LowestRankID(app)
		if err != nil {
			t.Fatal(err)
		}
		r.Set("rank", lowest)
	}
	if err := app.Save(r); err != nil {
		t.Fatalf("create user %s: %v", u.Email, err)
	}
	return r
}

// passwordHashes caches the bcrypt hash of each test password.
var passwordHashes sync.Map // password → hash

// passwordHash returns a bcrypt hash of password at the lowest cost, made
// once per password: saving a member through SetPassword hashes at
// PocketBase's cost (10), which under the race detector took most of the
// time of tests that create many members. Logging in checks the hash as
// for any member; passwords set through the API are hashed as in production.
func passwordHash(t testing.TB, password string) string {
	t.Helper()
	if h, ok := passwordHashes.Load(password); ok {
		return h.(string)
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatalf("hash password: %v", err)
	}
	passwordHashes.Store(password, string(h))
	return string(h)
}

// RankID returns the id of the rank with the given name.
func RankID(t testing.TB, app core.App, name string) string {
	t.Helper()
	r, err := app.FindFirstRecordByData("ranks", "name", name)
	if err != nil {
		t.Fatalf("rank %q: %v", name, err)
	}
	return r.Id
}

// Token returns a fresh auth token for an auth record (users or guests).
func Token(t testing.TB, record *core.Record) string {
	t.Helper()
	token, err := record.NewAuthToken()
	if err != nil {
		t.Fatalf("auth token: %v", err)
	}
	return token
}

// CreateSuperuser creates a dashboard superuser and returns it.
func CreateSuperuser(t testing.TB, app core.App) *core.Record {
	t.Helper()
	c, err := app.FindCollectionByNameOrId(core.CollectionNameSuperusers)
	if err != nil {
		t.Fatal(err)
	}
	r := core.NewRecord(c)
	r.SetEmail(fmt.Sprintf("root%d@example.com", userSeq.Add(1)))
	r.SetRaw("password", &core.PasswordFieldValue{Hash: passwordHash(t, DefaultPassword)})
	if err := app.Save(r); err != nil {
		t.Fatal(err)
	}
	return r
}

// SuperuserToken creates a superuser and returns its token.
func SuperuserToken(t testing.TB, app core.App) string {
	t.Helper()
	return Token(t, CreateSuperuser(t, app))
}

// UpdateSettings changes salon_settings as an admin would in the dashboard.
func UpdateSettings(t testing.TB, app core.App, values map[string]any) {
	t.Helper()
	s, err := salon.Settings(app)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range values {
		s.Set(k, v)
	}
	if err := app.Save(s); err != nil {
		t.Fatalf("update settings: %v", err)
	}
}

// Server is a real HTTP server in front of a test app.
type Server struct {
	URL string
	App *tests.TestApp
}

// Serve starts a real listening HTTP server (with OnServe hooks fired, so
// every route exists) for tests that need real connections: realtime SSE,
// WebRTC, concurrency. It stops when the test ends.
func Serve(t testing.TB, app *tests.TestApp) *Server {
	t.Helper()
	router, err := apis.NewRouter(app)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(nil)
	se := new(core.ServeEvent)
	se.App = app
	se.Router = router
	se.Server = ts.Config
	se.Listener = ts.Listener
	err = app.OnServe().Trigger(se, func(e *core.ServeEvent) error {
		mux, err := e.Router.BuildMux()
		if err != nil {
			return err
		}
		ts.Config.Handler = mux
		return nil
	})
	if err != nil {
		t.Fatalf("serve: %v", err)
	}
	ts.Start()
	t.Cleanup(ts.Close)
	return &Server{URL: ts.URL, App: app}
}

// Do sends a JSON request (body may be nil, a string, or any value to
// marshal) with an optional auth token and returns the status and body.
func (s *Server) Do(t testing.TB, method, path, token string, body any) (int, []byte) {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, s.URL+path, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	return res.StatusCode, out
}
