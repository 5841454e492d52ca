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
	if err := demo.Seed(app); err != nil {
		t.Fatal(err)
	}
	srv := testutil.Serve(t, app)
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
	if err := demo.Seed(app); err != demo.ErrNotEmpty {
		t.Fatalf("second run must refuse: %v", err)
	}
}
