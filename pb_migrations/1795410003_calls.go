package pb_migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
	"github.com/pocketbase/pocketbase/tools/types"
)

// calls: 1:1 video calls. The caller creates one (the DM policy decides,
// hooks/calls.go), the callee hears of it through realtime and accepts or
// declines by updating status; hooks/calls.go checks every transition and
// writes the timestamps. Calls are never deleted through the API.
func init() {
	m.Register(func(app core.App) error {
		users, err := app.FindCollectionByNameOrId("users")
		if err != nil {
			return err
		}
		const active = "@request.auth.collectionName = 'users' && @request.auth.suspended = false"
		const party = "(caller = @request.auth.id || callee = @request.auth.id)"

		c := core.NewBaseCollection("calls")
		c.ListRule = types.Pointer(active + " && " + party)
		c.ViewRule = c.ListRule
		c.CreateRule = types.Pointer(active + " && @request.body.caller = @request.auth.id")
		c.UpdateRule = types.Pointer(active + " && " + party)
		c.Fields.Add(
			&core.RelationField{Name: "caller", CollectionId: users.Id, MaxSelect: 1, Required: true, CascadeDelete: true},
			&core.RelationField{Name: "callee", CollectionId: users.Id, MaxSelect: 1, Required: true, CascadeDelete: true},
			&core.SelectField{Name: "status", Values: []string{"ringing", "active", "ended", "declined", "missed"}, MaxSelect: 1, Required: true},
			&core.DateField{Name: "started_at"},
			&core.DateField{Name: "ended_at"},
			&core.NumberField{Name: "duration", OnlyInt: true, Min: types.Pointer(0.0), Help: "seconds"},
		)
		addTimestamps(c)
		c.AddIndex("idx_calls_caller", false, "caller, status", "")
		c.AddIndex("idx_calls_callee", false, "callee, status", "")
		return app.Save(c)
	}, func(app core.App) error {
		c, err := app.FindCollectionByNameOrId("calls")
		if err != nil {
			return err
		}
		return app.Delete(c)
	})
}
