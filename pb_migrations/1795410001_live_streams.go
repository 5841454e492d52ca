package pb_migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
	"github.com/pocketbase/pocketbase/tools/types"
)

// live_streams: a member allowed to broadcast (hooks/access.go
// CanBroadcast) creates one, then publishes with WHIP; the media server
// moves it scheduled → live → ended (hooks/live.go). Members see the
// streams they may watch. host, status, viewer_count, started_at, ended_at
// and stream_key are written by the server only (hooks/live.go refuses
// them in requests); stream_key is hidden and shown to the host by
// GET /api/salon/live/{id}/key.
func init() {
	m.Register(func(app core.App) error {
		users, err := app.FindCollectionByNameOrId("users")
		if err != nil {
			return err
		}
		ranks, err := app.FindCollectionByNameOrId("ranks")
		if err != nil {
			return err
		}
		const active = "@request.auth.collectionName = 'users' && @request.auth.suspended = false"
		const admin = "(@request.auth.collectionName = 'users' && @request.auth.role = 'admin' && @request.auth.suspended = false)"

		c := core.NewBaseCollection("live_streams")
		c.ListRule = types.Pointer(active + " && (host = @request.auth.id || @request.auth.role = 'admin'" +
			" || min_rank = '' || @request.auth.rank.level >= min_rank.level)")
		c.ViewRule = c.ListRule
		c.CreateRule = types.Pointer(active)
		c.UpdateRule = types.Pointer(active + " && (host = @request.auth.id || " + admin + ")")
		c.DeleteRule = c.UpdateRule
		c.Fields.Add(
			&core.RelationField{Name: "host", CollectionId: users.Id, MaxSelect: 1, Required: true, CascadeDelete: true},
			// Required of members by hooks/live.go; optional here so that
			// streams made from Go or the dashboard need not invent one.
			&core.TextField{Name: "title", Max: 200, Presentable: true},
			&core.TextField{Name: "description", Max: 5000},
			&core.SelectField{Name: "status", Values: []string{"scheduled", "live", "ended"}, MaxSelect: 1, Required: true},
			&core.DateField{Name: "scheduled_at", Help: "When the host plans to go live (empty: now)."},
			// The events feature may turn this into a relation to events.
			&core.TextField{Name: "event", Max: 32, Help: "id of the events record this stream belongs to (optional)."},
			&core.RelationField{Name: "min_rank", CollectionId: ranks.Id, MaxSelect: 1,
				Help: "Minimum rank to watch (empty: every member)."},
			// The rooms feature may attach a chat room here; until then the
			// stream's chat is live_chat_messages.
			&core.TextField{Name: "room", Max: 32},
			&core.NumberField{Name: "viewer_count", OnlyInt: true, Min: types.Pointer(0.0)},
			&core.BoolField{Name: "tips_enabled"},
			&core.TextField{Name: "stream_key", Hidden: true, Max: 64},
			&core.DateField{Name: "started_at"},
			&core.DateField{Name: "ended_at"},
		)
		addTimestamps(c)
		c.AddIndex("idx_live_streams_status", false, "status, scheduled_at", "")
		c.AddIndex("idx_live_streams_host", false, "host", "")
		return app.Save(c)
	}, func(app core.App) error {
		c, err := app.FindCollectionByNameOrId("live_streams")
		if err != nil {
			return err
		}
		return app.Delete(c)
	})
}
