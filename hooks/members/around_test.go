package members_test

import (
	"net/http"
	"testing"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/hook"

	"salonbase/testutil"
)

// TestHooksAroundSignupGetTheAppBack: signup runs its work in a
// transaction; when it returns, e.App is the app again, so a hook bound
// around it (an operator's own in a custom main.go) can still use it. It
// used to be left on the finished transaction.
func TestHooksAroundSignupGetTheAppBack(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	var after error
	app.OnRecordCreateRequest("users").Bind(&hook.Handler[*core.RecordRequestEvent]{
		Priority: -1, // before the salon's hooks, so it runs around them
		Func: func(e *core.RecordRequestEvent) error {
			if err := e.Next(); err != nil {
				return err
			}
			_, after = e.App.CountRecords("users")
			return nil
		},
	})
	srv := testutil.Serve(t, app)
	status, body := srv.Do(t, http.MethodPost, testutil.UsersURL, "", map[string]any{
		"email": "around@example.com", "password": "12345678901", "passwordConfirm": "12345678901", "name": "Around",
	})
	if status != http.StatusOK {
		t.Fatalf("signup: %d %s", status, body)
	}
	if after != nil {
		t.Fatalf("after signup, e.App fails: %v", after)
	}
}
