package events

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/pocketbase/dbx"
	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"
	"github.com/pocketbase/pocketbase/tools/types"

	"salonbase/hooks/notify"
	"salonbase/hooks/salon"
)

// Events: organizers (see CanCreateEvent) create events; members RSVP
// through /api/salon/events/{id}/rsvp. Seats and the waitlist change only
// inside one transaction, and SQLite runs one write transaction at a time,
// so two members racing for the last seat cannot both get it. Publishing
// announces the event; changes and cancellation notify the attendees; a
// cron job sends reminders 24 h and 1 h before, once each.

const (
	RSVPGoing     = "going"
	RSVPWaitlist  = "waitlist"
	RSVPCancelled = "cancelled"
)

// reminders, latest first: an event created 30 minutes before it starts
// gets only the 1 h reminder.
var eventReminders = []struct {
	Field  string
	Before time.Duration
}{
	{"reminded_1h", time.Hour},
	{"reminded_24h", 24 * time.Hour},
}

func bindEvents(app core.App) {
	app.OnRecordCreateRequest("events").BindFunc(func(e *core.RecordRequestEvent) error {
		if err := CanCreateEvent(e.App, e.Auth); err != nil {
			return err
		}
		// admins (both kinds) may organize for someone else; others only for themselves
		organizer := e.Record.GetString("organizer")
		switch {
		case organizer != "" && organizer != e.Auth.Id && !salon.IsAdmin(e.Auth):
			return salon.Deny("admins_only", "Only admins can create events for another organizer.")
		case organizer == "" && e.Auth.Collection().Name == "users":
			e.Record.Set("organizer", e.Auth.Id)
		}
		return e.Next()
	})

	// model hooks: API, dashboard and Go alike
	app.OnRecordValidate("events").BindFunc(func(e *core.RecordEvent) error {
		if err := validateEvent(e.Record); err != nil {
			return err
		}
		return e.Next()
	})
	// What a save promises (announcing, telling attendees, filling freed
	// seats) is done or queued as a job in the save's own transaction, so a
	// crash right after the answer loses none of it.
	app.OnRecordCreate("events").BindFunc(func(e *core.RecordEvent) error {
		return salon.ChainInTx(&e.App, func(tx core.App) error {
			if err := e.Next(); err != nil {
				return err
			}
			if e.Record.GetBool("published") && !e.Record.GetBool("cancelled") {
				return queueEventNotice(tx, e.Record.Id, "event")
			}
			return nil
		})
	})
	app.OnRecordUpdate("events").BindFunc(func(e *core.RecordEvent) error {
		// a new start time deserves new reminders
		if !e.Record.GetDateTime("starts_at").Equal(e.Record.Original().GetDateTime("starts_at")) {
			for _, r := range eventReminders {
				e.Record.Set(r.Field, "")
			}
		}
		return salon.ChainInTx(&e.App, func(tx core.App) error {
			if err := e.Next(); err != nil {
				return err
			}
			return onEventUpdated(tx, e.Record.Original(), e.Record)
		})
	})
	// the attendees are gone after the delete (cascade), so collect them first
	app.OnRecordDelete("events").BindFunc(func(e *core.RecordEvent) error {
		ev := e.Record
		return salon.ChainInTx(&e.App, func(tx core.App) error {
			var attendees []string
			if ev.GetBool("published") && !ev.GetBool("cancelled") && ev.GetDateTime("starts_at").Time().After(time.Now()) {
				var err error
				if attendees, err = attendeesWhoMaySee(tx, ev); err != nil {
					return err
				}
			}
			if err := e.Next(); err != nil {
				return err
			}
			return notify.Notify(tx, attendees, eventNotice(ev, "event_cancelled"))
		})
	})
	salon.HandleJob(app, eventJob, runEventJob)

	app.Cron().MustAdd("salonEventReminders", "*/5 * * * *", func() {
		if _, err := SendEventReminders(app, time.Now()); err != nil {
			app.Logger().Error("event reminders", "error", err)
		}
	})
	app.OnTerminate().BindFunc(func(e *core.TerminateEvent) error {
		salon.WaitBackground(e.App)
		return e.Next()
	})
}

func eventRoutes(g *router.RouterGroup[*core.RequestEvent]) {
	g.GET("/events/can-create", canCreate).Bind(apis.RequireAuth())
	ev := g.Group("/events/{id}")
	ev.GET("/rsvp", myRSVP).Bind(apis.RequireAuth("users"))
	ev.POST("/rsvp", rsvp).Bind(apis.RequireAuth("users"))
	ev.DELETE("/rsvp", cancelRSVP).Bind(apis.RequireAuth("users"))
	ev.GET("/attendees", attendeesJSON).Bind(apis.RequireAuth())
	ev.GET("/attendees.csv", attendeesCSV).Bind(apis.RequireAuth())
}

func validateEvent(ev *core.Record) error {
	errs := validation.Errors{}
	start, end := ev.GetDateTime("starts_at"), ev.GetDateTime("ends_at")
	if !end.IsZero() && end.Before(start) {
		errs["ends_at"] = validation.NewError("validation_event_end", "The event cannot end before it starts.")
	}
	if tz := ev.GetString("timezone"); tz != "" {
		if _, err := time.LoadLocation(tz); err != nil {
			errs["timezone"] = validation.NewError("validation_event_timezone", "Use an IANA time zone such as Asia/Tokyo.")
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// onEventUpdated runs in the update's transaction: it fills seats a higher
// capacity freed and queues the notices the change calls for.
func onEventUpdated(tx core.App, old, ev *core.Record) error {
	published, cancelled := ev.GetBool("published"), ev.GetBool("cancelled")
	var err error
	switch {
	case published && !cancelled && !old.GetBool("published"):
		err = queueEventNotice(tx, ev.Id, "event")
	case cancelled && !old.GetBool("cancelled"):
		err = queueEventNotice(tx, ev.Id, "event_cancelled")
	case published && !cancelled && eventChanged(old, ev):
		err = queueEventNotice(tx, ev.Id, "event_changed")
	}
	if err != nil {
		return err
	}
	if ev.GetInt("capacity") != old.GetInt("capacity") {
		if err := promoteWaitlist(tx, ev.Id); err != nil {
			return err
		}
		return touchWaitlist(tx, ev.Id) // waiting members see their new place
	}
	return nil
}

// eventJob is the job an event's save leaves: its announcement ("event"),
// or the notice of a change or cancellation to its attendees.
const eventJob = "events.notice"

type eventJobPayload struct {
	Event string `json:"event"`
	Kind  string `json:"kind"` // event, event_changed, event_cancelled
}

func queueEventNotice(tx core.App, eventID, kind string) error {
	return salon.Enqueue(tx, eventJob, eventJobPayload{Event: eventID, Kind: kind})
}

// runEventJob sends an event notice, reading the event as it is now.
func runEventJob(tx core.App, payload json.RawMessage) error {
	var job eventJobPayload
	if err := json.Unmarshal(payload, &job); err != nil {
		return fmt.Errorf("event job: %w", err)
	}
	if job.Kind == "event" {
		return AnnounceEvent(tx, job.Event)
	}
	ev, err := tx.FindRecordById("events", job.Event)
	if err != nil {
		return nil // deleted since: its deletion told the attendees
	}
	ids, err := attendeesWhoMaySee(tx, ev)
	if err != nil {
		return err
	}
	return notify.Later(tx, ids, eventNotice(ev, job.Kind))
}

// eventChanged reports a change attendees need to hear about.
func eventChanged(old, ev *core.Record) bool {
	for _, f := range []string{"title", "location", "online_url"} {
		if old.GetString(f) != ev.GetString(f) {
			return true
		}
	}
	for _, f := range []string{"starts_at", "ends_at"} {
		if !old.GetDateTime(f).Equal(ev.GetDateTime(f)) {
			return true
		}
	}
	return false
}

func eventNotice(ev *core.Record, kind string) notify.Notification {
	start := ev.GetDateTime("starts_at").Time()
	if loc, err := time.LoadLocation(ev.GetString("timezone")); err == nil && ev.GetString("timezone") != "" {
		start = start.In(loc)
	}
	body := start.Format("2006-01-02 15:04 MST")
	if where := ev.GetString("location"); where != "" {
		body += " · " + where
	}
	return notify.Notification{
		Kind:             kind,
		Title:            ev.GetString("title"),
		Body:             body,
		URL:              "/events/" + ev.Id,
		SourceCollection: "events",
		SourceID:         ev.Id,
		Vars:             map[string]string{"EVENT": ev.GetString("title")},
	}
}

// AnnounceEvent notifies, once per event, every active member whose rank
// may see it (the organizer's followers among them) except the organizer.
// The claim (announced_at) and the queued notices commit together.
func AnnounceEvent(app core.App, eventID string) error {
	return app.RunInTransaction(func(tx core.App) error {
		// claim the announcement, so publishing twice announces once
		res, err := tx.DB().NewQuery("UPDATE events SET announced_at = {:now} WHERE id = {:id} AND announced_at = '' AND published = TRUE AND cancelled = FALSE").
			Bind(dbx.Params{"now": salon.DbTime(time.Now()), "id": eventID}).Execute()
		if err != nil {
			return fmt.Errorf("announce %s: %w", eventID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		ev, err := tx.FindRecordById("events", eventID)
		if err != nil {
			return err
		}
		ids, err := eligibleMemberIDs(tx, ev)
		if err != nil {
			return err
		}
		n := eventNotice(ev, "event")
		if ev.GetString("kind") == "live" {
			n.Kind = "live"
			host := ""
			if org, err := tx.FindRecordById("users", ev.GetString("organizer")); err == nil {
				host = org.GetString("name")
			}
			n.Vars = map[string]string{"HOST": host, "STREAM": ev.GetString("title")}
		}
		return notify.Later(tx, ids, n)
	})
}

// eligibleMemberIDs lists the active members whose rank reaches the
// event's minimum (admins always), without its organizer.
func eligibleMemberIDs(app core.App, ev *core.Record) ([]string, error) {
	return salon.MemberIDsWithRank(app, ev.GetString("min_rank"), ev.GetString("organizer"))
}

// attendeeIDs lists the members going to or waiting for an event.
func attendeeIDs(app core.App, eventID string) ([]string, error) {
	var ids []string
	err := app.DB().Select("user").From("event_rsvps").
		Where(dbx.HashExp{"event": eventID}).
		AndWhere(dbx.In("status", RSVPGoing, RSVPWaitlist)).
		Column(&ids)
	return ids, err
}

// attendeesWhoMaySee lists the attendees whose rank still reaches the
// event's minimum: a notice carries the event's link and place, so an event
// raised to a higher rank is no longer told to those below it.
func attendeesWhoMaySee(app core.App, ev *core.Record) ([]string, error) {
	ids, err := attendeeIDs(app, ev.Id)
	if err != nil || len(ids) == 0 || ev.GetString("min_rank") == "" {
		return ids, err
	}
	level, err := salon.RankLevel(app, ev.GetString("min_rank"))
	if err != nil {
		return nil, err // a deleted minimum rank keeps the event closed
	}
	in := make([]any, len(ids))
	for i, id := range ids {
		in[i] = id
	}
	var out []string
	err = app.DB().Select("users.id").From("users").
		LeftJoin("ranks", dbx.NewExp("ranks.id = users.rank")).
		Where(dbx.In("users.id", in...)).
		AndWhere(dbx.NewExp("users.role = 'admin' OR COALESCE(ranks.level, 0) >= {:level}", dbx.Params{"level": level})).
		Column(&out)
	if err != nil {
		return nil, fmt.Errorf("attendees who may see the event: %w", err)
	}
	return out, nil
}

// visibleEvent is the event of the path if the caller may view it (the
// collection's view rule); a 404 otherwise, as for an event that does not
// exist.
func visibleEvent(e *core.RequestEvent) (*core.Record, error) {
	ev, err := e.App.FindRecordById("events", e.Request.PathValue("id"))
	if err != nil {
		return nil, e.NotFoundError("No such event.", nil)
	}
	info, err := e.RequestInfo()
	if err != nil {
		return nil, err
	}
	if ok, _ := e.App.CanAccessRecord(ev, info, ev.Collection().ViewRule); !ok {
		return nil, e.NotFoundError("No such event.", nil)
	}
	return ev, nil
}

// rsvpEvent loads the event for an RSVP by auth, or answers 404 when the
// caller may not see it and 400 when it no longer takes RSVPs.
func rsvpEvent(e *core.RequestEvent) (*core.Record, error) {
	if !salon.IsMember(e.Auth) {
		return nil, salon.Deny("not_member", "Only active members can RSVP.")
	}
	ev, err := visibleEvent(e)
	if err != nil {
		return nil, err
	}
	if !ev.GetBool("published") {
		return nil, salon.Refuse(http.StatusBadRequest, "event_not_published", "This event is not published yet.")
	}
	return ev, nil
}

func eventOver(ev *core.Record, now time.Time) bool {
	end := ev.GetDateTime("ends_at")
	if end.IsZero() {
		end = ev.GetDateTime("starts_at")
	}
	return !end.Time().After(now)
}

type rsvpResult struct {
	Status   string `json:"status"`
	Position int    `json:"position,omitempty"` // place on the waitlist, from 1
}

// rsvp: going when a seat is free, else on the waitlist. Asking again
// returns the current state.
func rsvp(e *core.RequestEvent) error {
	ev, err := rsvpEvent(e)
	if err != nil {
		return err
	}
	if ev.GetBool("cancelled") {
		return salon.Refuse(http.StatusBadRequest, "event_cancelled", "This event is cancelled.")
	}
	if eventOver(ev, time.Now()) {
		return salon.Refuse(http.StatusBadRequest, "event_over", "This event is over.")
	}
	var out rsvpResult
	err = e.App.RunInTransaction(func(tx core.App) error {
		ev, err := tx.FindRecordById("events", ev.Id) // fresh capacity
		if err != nil {
			return err
		}
		r, err := findRSVP(tx, ev.Id, e.Auth.Id)
		if err != nil {
			return err
		}
		if r == nil {
			c, err := tx.FindCachedCollectionByNameOrId("event_rsvps")
			if err != nil {
				return err
			}
			r = core.NewRecord(c)
			r.Set("event", ev.Id)
			r.Set("user", e.Auth.Id)
		}
		if s := r.GetString("status"); s != RSVPGoing && s != RSVPWaitlist {
			going, err := countGoing(tx, ev.Id)
			if err != nil {
				return err
			}
			if capacity := ev.GetInt("capacity"); capacity == 0 || going < capacity {
				r.Set("status", RSVPGoing)
				r.Set("waitlisted_at", "")
			} else {
				at, err := nextWaitlistTime(tx, ev.Id, time.Now())
				if err != nil {
					return err
				}
				r.Set("status", RSVPWaitlist)
				r.Set("waitlisted_at", at)
			}
			if err := tx.Save(r); err != nil {
				return err
			}
		}
		out.Status = r.GetString("status")
		if out.Status == RSVPWaitlist {
			out.Position, err = waitlistPosition(tx, r)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("rsvp: %w", err)
	}
	if err := publishSeats(e.App, ev.Id); err != nil {
		e.App.Logger().Warn("event seats", "event", ev.Id, "error", err)
	}
	return e.JSON(http.StatusOK, out)
}

// cancelRSVP gives the seat (or waitlist place) back; the first member on
// the waitlist gets a freed seat and is notified.
func cancelRSVP(e *core.RequestEvent) error {
	ev, err := rsvpEvent(e)
	if err != nil {
		return err
	}
	err = e.App.RunInTransaction(func(tx core.App) error {
		r, err := findRSVP(tx, ev.Id, e.Auth.Id)
		if err != nil {
			return err
		}
		if r == nil || r.GetString("status") == RSVPCancelled {
			return salon.Refuse(http.StatusBadRequest, "no_rsvp", "You have no RSVP for this event.")
		}
		r.Set("status", RSVPCancelled)
		r.Set("waitlisted_at", "")
		if err := tx.Save(r); err != nil {
			return err
		}
		if err := promoteWaitlist(tx, ev.Id); err != nil {
			return err
		}
		return touchWaitlist(tx, ev.Id)
	})
	if err != nil {
		return err
	}
	if err := publishSeats(e.App, ev.Id); err != nil {
		e.App.Logger().Warn("event seats", "event", ev.Id, "error", err)
	}
	return e.JSON(http.StatusOK, rsvpResult{Status: RSVPCancelled})
}

// touchWaitlist re-saves the waitlist's RSVPs after someone left it or a
// seat was given: a member's place is counted, not stored, so the re-save
// is what tells each waiting member's subscription that it moved.
func touchWaitlist(tx core.App, eventID string) error {
	var waiting []*core.Record
	err := tx.RecordQuery("event_rsvps").
		AndWhere(dbx.HashExp{"event": eventID, "status": RSVPWaitlist}).
		All(&waiting)
	if err != nil {
		return fmt.Errorf("waitlist of %s: %w", eventID, err)
	}
	for _, r := range waiting {
		if err := tx.Save(r); err != nil {
			return fmt.Errorf("touch waitlist of %s: %w", eventID, err)
		}
	}
	return nil
}

type rsvpState struct {
	Status   string `json:"status"`             // going, waitlist, cancelled, or "" (never answered)
	Position int    `json:"position,omitempty"` // place on the waitlist, from 1
	Going    int    `json:"going"`              // seats taken
	Waitlist int    `json:"waitlist"`           // members waiting
	Capacity int    `json:"capacity"`           // 0 = unlimited
}

// myRSVP answers the caller's RSVP to an event they may see, with the
// seats taken and the waitlist's length: what an event page shows.
func myRSVP(e *core.RequestEvent) error {
	if !salon.IsMember(e.Auth) {
		return salon.Deny("not_member", "Only active members can RSVP.")
	}
	ev, err := visibleEvent(e)
	if err != nil {
		return err
	}
	out := rsvpState{Capacity: ev.GetInt("capacity")}
	if out.Going, err = countGoing(e.App, ev.Id); err != nil {
		return err
	}
	n, err := e.App.CountRecords("event_rsvps", dbx.HashExp{"event": ev.Id, "status": RSVPWaitlist})
	if err != nil {
		return err
	}
	out.Waitlist = int(n)
	r, err := findRSVP(e.App, ev.Id, e.Auth.Id)
	if err != nil {
		return err
	}
	if r != nil {
		out.Status = r.GetString("status")
		if out.Status == RSVPWaitlist {
			if out.Position, err = waitlistPosition(e.App, r); err != nil {
				return err
			}
		}
	}
	return e.JSON(http.StatusOK, out)
}

func findRSVP(app core.App, eventID, userID string) (*core.Record, error) {
	r, err := app.FindFirstRecordByFilter("event_rsvps", "event = {:e} && user = {:u}", dbx.Params{"e": eventID, "u": userID})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return r, err
}

func countGoing(app core.App, eventID string) (int, error) {
	n, err := app.CountRecords("event_rsvps", dbx.HashExp{"event": eventID, "status": RSVPGoing})
	return int(n), err
}

// nextWaitlistTime is now, or just after the last member on the waitlist
// when that is not earlier: the waitlist order is the order of arrival
// even within one millisecond.
func nextWaitlistTime(tx core.App, eventID string, now time.Time) (time.Time, error) {
	var last string
	err := tx.DB().Select("COALESCE(MAX(waitlisted_at), '')").From("event_rsvps").
		Where(dbx.HashExp{"event": eventID}).Row(&last)
	if err != nil {
		return now, err
	}
	now = now.UTC().Truncate(time.Millisecond)
	if last != "" {
		if t, err := types.ParseDateTime(last); err == nil && !now.After(t.Time()) {
			return t.Time().Add(time.Millisecond), nil
		}
	}
	return now, nil
}

func waitlistPosition(app core.App, r *core.Record) (int, error) {
	var n int
	err := app.DB().Select("count(*)").From("event_rsvps").
		Where(dbx.HashExp{"event": r.GetString("event"), "status": RSVPWaitlist}).
		AndWhere(dbx.NewExp("(waitlisted_at < {:at} OR (waitlisted_at = {:at} AND id <= {:id}))",
			dbx.Params{"at": r.GetString("waitlisted_at"), "id": r.Id})).
		Row(&n)
	return n, err
}

// promoteWaitlist fills free seats from the waitlist, first come first
// served, and notifies the promoted members. Call it inside a transaction.
// A lower capacity never removes anyone who is already going.
func promoteWaitlist(tx core.App, eventID string) error {
	ev, err := tx.FindRecordById("events", eventID)
	if err != nil {
		return err
	}
	if ev.GetBool("cancelled") {
		return nil
	}
	going, err := countGoing(tx, eventID)
	if err != nil {
		return err
	}
	free := -1 // unlimited
	if capacity := ev.GetInt("capacity"); capacity > 0 {
		free = capacity - going
		if free <= 0 {
			return nil
		}
	}
	q := tx.RecordQuery("event_rsvps").
		AndWhere(dbx.HashExp{"event": eventID, "status": RSVPWaitlist}).
		OrderBy("waitlisted_at ASC", "id ASC")
	if free > 0 {
		q.Limit(int64(free))
	}
	var next []*core.Record
	if err := q.All(&next); err != nil {
		return fmt.Errorf("waitlist of %s: %w", eventID, err)
	}
	promoted := make([]string, 0, len(next))
	for _, r := range next {
		r.Set("status", RSVPGoing)
		r.Set("waitlisted_at", "")
		if err := tx.Save(r); err != nil {
			return err
		}
		promoted = append(promoted, r.GetString("user"))
	}
	return notify.Notify(tx, promoted, eventNotice(ev, "waitlist_promoted"))
}

// SendEventReminders notifies the members going to events that start
// within 24 h and within 1 h of now, once per event and reminder (the
// event row records each one in the same transaction). It returns how many
// reminders it sent. The cron job calls it every 5 minutes.
func SendEventReminders(app core.App, now time.Time) (int, error) {
	sent := 0
	for _, rem := range eventReminders {
		var due []*core.Record
		err := app.RecordQuery("events").
			AndWhere(dbx.HashExp{"published": true, "cancelled": false, rem.Field: ""}).
			AndWhere(dbx.NewExp("starts_at > {:now} AND starts_at <= {:until}",
				dbx.Params{"now": salon.DbTime(now), "until": salon.DbTime(now.Add(rem.Before))})).
			All(&due)
		if err != nil {
			return sent, fmt.Errorf("due reminders: %w", err)
		}
		for _, ev := range due {
			err := app.RunInTransaction(func(tx core.App) error {
				// mark this reminder and the earlier ones, claiming the row
				set := dbx.Params{}
				for _, r := range eventReminders {
					if r.Before >= rem.Before {
						set[r.Field] = salon.DbTime(now)
					}
				}
				res, err := tx.DB().Update("events", set, dbx.And(dbx.HashExp{"id": ev.Id, rem.Field: ""})).Execute()
				if err != nil {
					return err
				}
				if n, _ := res.RowsAffected(); n == 0 {
					return nil // another run got it
				}
				ids, err := goingIDs(tx, ev.Id)
				if err != nil {
					return err
				}
				if err := notify.Notify(tx, ids, eventNotice(ev, "event_reminder")); err != nil {
					return err
				}
				sent++
				return nil
			})
			if err != nil {
				return sent, fmt.Errorf("reminder for %s: %w", ev.Id, err)
			}
		}
	}
	return sent, nil
}

func goingIDs(app core.App, eventID string) ([]string, error) {
	var ids []string
	err := app.DB().Select("user").From("event_rsvps").
		Where(dbx.HashExp{"event": eventID, "status": RSVPGoing}).Column(&ids)
	return ids, err
}
