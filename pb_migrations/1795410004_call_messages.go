package pb_migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
	"github.com/pocketbase/pocketbase/tools/types"
)

// call_messages: text chat during a call, kept afterwards so that the two
// parties can read again what they agreed on. Only they see it; it can be
// written while the call rings or runs.
func init() {
	m.Register(func(app core.App) error {
		users, err := app.FindCollectionByNameOrId("users")
		if err != nil {
			return err
		}
		calls, err := app.FindCollectionByNameOrId("calls")
		if err != nil {
			return err
		}
		const active = "@request.auth.collectionName = 'users' && @request.auth.suspended = false"
		const party = "(call.caller = @request.auth.id || call.callee = @request.auth.id)"

		c := core.NewBaseCollection("call_messages")
		c.ListRule = types.Pointer(active + " && " + party)
		c.ViewRule = c.ListRule
		c.CreateRule = types.Pointer(active + " && " + party + " && @request.body.author = @request.auth.id" +
			" && (call.status = 'ringing' || call.status = 'active')")
		c.Fields.Add(
			&core.RelationField{Name: "call", CollectionId: calls.Id, MaxSelect: 1, Required: true, CascadeDelete: true},
			&core.RelationField{Name: "author", CollectionId: users.Id, MaxSelect: 1, Required: true, CascadeDelete: true},
			&core.TextField{Name: "body", Required: true, Max: 4000},
		)
		addTimestamps(c)
		c.AddIndex("idx_call_messages_call", false, "call, created", "")
		return app.Save(c)
	}, func(app core.App) error {
		c, err := app.FindCollectionByNameOrId("call_messages")
		if err != nil {
			return err
		}
		return app.Delete(c)
	})
}
