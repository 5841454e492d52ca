package pb_migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
	"github.com/pocketbase/pocketbase/tools/types"
)

// A paid tip is shown to the members who may watch its stream (the stream's
// own rule: host, admins, or a rank that reaches min_rank), not to every
// member: a tip on a Gold-only stream, message included, stays among Gold
// members. The tipper and the host always see their tips.
func init() {
	m.Register(func(app core.App) error {
		c, err := app.FindCollectionByNameOrId("tips")
		if err != nil {
			return err
		}
		const active = "@request.auth.collectionName = 'users' && @request.auth.suspended = false"
		const admin = "(@request.auth.collectionName = 'users' && @request.auth.role = 'admin' && @request.auth.suspended = false)"
		const streamVisible = "(@collection.live_streams.id ?= stream && (@collection.live_streams.min_rank ?= '' || " +
			"@request.auth.rank.level ?>= @collection.live_streams.min_rank.level))"
		c.ListRule = types.Pointer(admin + " || (" + active +
			" && (from = @request.auth.id || to = @request.auth.id || (status = 'paid' && " + streamVisible + ")))")
		c.ViewRule = c.ListRule
		return app.Save(c)
	}, func(app core.App) error {
		c, err := app.FindCollectionByNameOrId("tips")
		if err != nil {
			return err
		}
		const active = "@request.auth.collectionName = 'users' && @request.auth.suspended = false"
		const admin = "(@request.auth.collectionName = 'users' && @request.auth.role = 'admin' && @request.auth.suspended = false)"
		c.ListRule = types.Pointer(admin + " || (" + active +
			" && (status = 'paid' || from = @request.auth.id || to = @request.auth.id))")
		c.ViewRule = c.ListRule
		return app.Save(c)
	})
}
