package pb_migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
	"github.com/pocketbase/pocketbase/tools/types"
)

// events and event_rsvps. Members see published events their rank allows;
// organizers and admins see their drafts too. RSVPs go through
// /api/salon/events/{id}/rsvp (hooks/events.go), which fills seats and the
// waitlist in one transaction, so the API only lets members read them.
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
		const rankOK = "(min_rank = '' || min_rank.level <= @request.auth.rank.level)"

		events := core.NewBaseCollection("events")
		events.ListRule = types.Pointer(admin + " || (" + active + " && (organizer = @request.auth.id || (published = true && " + rankOK + ")))")
		events.ViewRule = events.ListRule
		// who may create is decided in hooks (CanCreateEvent) with a clear 403
		events.CreateRule = types.Pointer(active)
		events.UpdateRule = types.Pointer(admin + " || (" + active + " && organizer = @request.auth.id && @request.body.organizer:changed = false)")
		events.DeleteRule = events.UpdateRule
		events.Fields.Add(
			&core.TextField{Name: "title", Required: true, Max: 200, Presentable: true},
			&core.EditorField{Name: "description", MaxSize: 100000},
			&core.SelectField{Name: "kind", Values: []string{"live", "meetup", "offline", "seminar", "other"}, MaxSelect: 1, Required: true},
			&core.DateField{Name: "starts_at", Required: true},
			&core.DateField{Name: "ends_at"},
			&core.TextField{Name: "timezone", Max: 64,
				Help: "IANA time zone the event is organized in, e.g. Asia/Tokyo (times are stored in UTC)."},
			&core.TextField{Name: "location", Max: 500},
			&core.URLField{Name: "online_url"},
			&core.TextField{Name: "stream", Max: 32, Help: "Id of the linked live stream, if any."},
			&core.NumberField{Name: "capacity", OnlyInt: true, Min: types.Pointer(0.0), Help: "Seats; 0 = unlimited."},
			&core.RelationField{Name: "min_rank", CollectionId: ranks.Id, MaxSelect: 1},
			&core.FileField{Name: "cover", MaxSelect: 1, MaxSize: 5 << 20,
				MimeTypes: []string{"image/jpeg", "image/png", "image/gif", "image/webp"}, Thumbs: []string{"600x300"}},
			&core.BoolField{Name: "published"},
			&core.BoolField{Name: "cancelled"},
			&core.RelationField{Name: "organizer", CollectionId: users.Id, MaxSelect: 1},
			// reminder bookkeeping, written only by the cron job
			&core.DateField{Name: "reminded_24h", Hidden: true},
			&core.DateField{Name: "reminded_1h", Hidden: true},
			&core.DateField{Name: "announced_at", Hidden: true},
		)
		addTimestamps(events)
		events.AddIndex("idx_events_starts", false, "published, starts_at", "")
		if err := app.Save(events); err != nil {
			return err
		}

		rsvps := core.NewBaseCollection("event_rsvps")
		rsvps.ListRule = types.Pointer(admin + " || (" + active + " && (user = @request.auth.id || event.organizer = @request.auth.id))")
		rsvps.ViewRule = rsvps.ListRule
		rsvps.Fields.Add(
			&core.RelationField{Name: "event", CollectionId: events.Id, MaxSelect: 1, Required: true, CascadeDelete: true},
			&core.RelationField{Name: "user", CollectionId: users.Id, MaxSelect: 1, Required: true, CascadeDelete: true},
			&core.SelectField{Name: "status", Values: []string{"going", "waitlist", "cancelled"}, MaxSelect: 1, Required: true},
			// order of the waitlist: the time the member joined it
			&core.DateField{Name: "waitlisted_at"},
		)
		addTimestamps(rsvps)
		rsvps.AddIndex("idx_event_rsvps_pair", true, "event, user", "")
		rsvps.AddIndex("idx_event_rsvps_status", false, "event, status, waitlisted_at", "")
		return app.Save(rsvps)
	}, func(app core.App) error {
		for _, name := range []string{"event_rsvps", "events"} {
			c, err := app.FindCollectionByNameOrId(name)
			if err != nil {
				return err
			}
			if err := app.Delete(c); err != nil {
				return err
			}
		}
		return nil
	})
}
