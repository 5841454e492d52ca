package pb_migrations_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/pocketbase/pocketbase/core"

	_ "salonbase/pb_migrations"
)

// operatorCollections are the ones an operator edits in the dashboard.
var operatorCollections = []string{
	"users", "ranks", "salon_settings", "invite_codes", "reports",
	"rooms", "forum_categories", "groups", "events", "products", "live_streams",
}

// TestOperatorFieldsExplainThemselves: every field an operator may edit in
// the dashboard carries help text there (PocketBase shows it under the input).
func TestOperatorFieldsExplainThemselves(t *testing.T) {
	t.Parallel()
	app := migratedApp(t)

	for _, name := range operatorCollections {
		c, err := app.FindCollectionByNameOrId(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, f := range c.Fields {
			if f.GetSystem() || f.GetHidden() || f.Type() == core.FieldTypeAutodate {
				continue
			}
			if helpOf(f) == "" {
				t.Errorf("%s.%s has no help text", name, f.GetName())
			}
		}
	}
}

// helpOf reads a field's help text the way the dashboard gets it: from
// the field's JSON (fields have no getter for it).
func helpOf(f core.Field) string {
	raw, _ := json.Marshal(f)
	var v struct{ Help string }
	_ = json.Unmarshal(raw, &v)
	return strings.TrimSpace(v.Help)
}
