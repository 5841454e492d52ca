package notify_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"salonbase/hooks/salon"
	"salonbase/testutil"
)

// TestSalonNameIsTheApplicationName: the salon has one name, Settings →
// Application name; the e-mails use it and salon_settings has no other.
func TestSalonNameIsTheApplicationName(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	ms := testutil.StartMailServer(t)
	testutil.UseMailServer(t, app, ms)
	srv := testutil.Serve(t, app)
	root := testutil.SuperuserToken(t, app)
	admin := testutil.Token(t, testutil.CreateUser(t, app, testutil.User{Role: salon.RoleAdmin}))
	testutil.Member(t, app, testutil.User{}, "en")

	if f := testutil.MustCollection(t, app, "salon_settings").Fields.GetByName("salon_name"); f != nil {
		t.Fatal("salon_settings must not carry a second salon name")
	}
	if got := app.Settings().Meta.AppName; got != "Salonbase" {
		t.Fatalf("the migrated salon's Application name is %q, want the seeded salon name", got)
	}
	testutil.WantStatus(t, srv, http.MethodPatch, "/api/settings", root,
		map[string]any{"meta": map[string]any{"appName": "Tokyo Salon"}}, http.StatusOK, "")
	testutil.WantStatus(t, srv, http.MethodPost, "/api/salon/notifications/announce", admin,
		map[string]any{"title": "Spring meetup", "body": "see you"}, http.StatusAccepted, "")
	salon.WaitBackground(app)
	deliver(t, app, time.Now())
	if got := ms.WaitFor(t, 1)[0].Subject; !strings.HasPrefix(got, "[Tokyo Salon]") {
		t.Fatalf("subject %q does not carry the Application name", got)
	}
}
