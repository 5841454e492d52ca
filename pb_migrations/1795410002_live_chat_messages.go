package pb_migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
	"github.com/pocketbase/pocketbase/tools/types"
)

// live_chat_messages: viewers' text chat with the host of a live stream.
// Whoever may watch the stream may read and write while it is not over;
// the messages stay afterwards. (When the rooms feature lands, a stream
// may get a room instead; this collection is what it absorbs.)
func init() {
	m.Register(func(app core.App) error {
		users, err := app.FindCollectionByNameOrId("users")
		if err != nil {
			return err
		}
		streams, err := app.FindCollectionByNameOrId("live_streams")
		if err != nil {
			return err
		}
		const active = "@request.auth.collectionName = 'users' && @request.auth.suspended = false"
		const admin = "(@request.auth.collectionName = 'users' && @request.auth.role = 'admin' && @request.auth.suspended = false)"
		const mayWatch = "(stream.host = @request.auth.id || @request.auth.role = 'admin'" +
			" || stream.min_rank = '' || @request.auth.rank.level >= stream.min_rank.level)"

		c := core.NewBaseCollection("live_chat_messages")
		c.ListRule = types.Pointer(active + " && " + mayWatch)
		c.ViewRule = c.ListRule
		c.CreateRule = types.Pointer(active + " && " + mayWatch +
			" && @request.body.author = @request.auth.id && stream.status != 'ended'")
		c.DeleteRule = types.Pointer(active + " && (author = @request.auth.id || stream.host = @request.auth.id || " + admin + ")")
		c.Fields.Add(
			&core.RelationField{Name: "stream", CollectionId: streams.Id, MaxSelect: 1, Required: true, CascadeDelete: true},
			&core.RelationField{Name: "author", CollectionId: users.Id, MaxSelect: 1, Required: true, CascadeDelete: true},
			&core.TextField{Name: "body", Required: true, Max: 2000},
		)
		addTimestamps(c)
		c.AddIndex("idx_live_chat_stream", false, "stream, created", "")
		return app.Save(c)
	}, func(app core.App) error {
		c, err := app.FindCollectionByNameOrId("live_chat_messages")
		if err != nil {
			return err
		}
		return app.Delete(c)
	})
}
