package forum_test

import (
	"net/http"
	"testing"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/hook"

	"salonbase/testutil"
)

// TestHooksAroundGroupWritesGetTheAppBack: creating and renaming a group
// run in a transaction; when they return, e.App is the app again, so a hook
// bound around them (an operator's own in a custom main.go) can still use
// it. It used to be left on the finished transaction.
func TestHooksAroundGroupWritesGetTheAppBack(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	var afterCreate, afterUpdate error
	around := func(after *error) *hook.Handler[*core.RecordRequestEvent] {
		return &hook.Handler[*core.RecordRequestEvent]{
			Priority: -1, // before the salon's hooks, so it runs around them
			Func: func(e *core.RecordRequestEvent) error {
				if err := e.Next(); err != nil {
					return err
				}
				_, *after = e.App.CountRecords("groups")
				return nil
			},
		}
	}
	app.OnRecordCreateRequest("groups").Bind(around(&afterCreate))
	app.OnRecordUpdateRequest("groups").Bind(around(&afterUpdate))
	srv := testutil.Serve(t, app)
	owner := testutil.Token(t, testutil.CreateUser(t, app, testutil.User{}))

	group := testutil.MustCreate(t, srv, testutil.GroupsURL, owner, map[string]any{"name": "Hikers", "theme": "hobby", "visibility": "open"})
	if afterCreate != nil {
		t.Fatalf("after creating a group, e.App fails: %v", afterCreate)
	}
	testutil.WantStatus(t, srv, http.MethodPatch, testutil.GroupsURL+"/"+group["id"].(string), owner, map[string]any{"name": "Walkers"}, http.StatusOK, "")
	if afterUpdate != nil {
		t.Fatalf("after renaming a group, e.App fails: %v", afterUpdate)
	}
}
