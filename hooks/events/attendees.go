package events

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/http"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"

	"salonbase/hooks/salon"
)

// Attendee list and CSV export of an event, for admins and its organizer.
// Only admins see e-mail addresses (members' addresses stay private).

type attendee struct {
	User         string `db:"user" json:"user"`
	Name         string `db:"name" json:"name"`
	Email        string `db:"email" json:"email,omitempty"`
	Rank         string `db:"rank" json:"rank"`
	Status       string `db:"status" json:"status"`
	RSVPAt       string `db:"created" json:"rsvpAt"`
	WaitlistedAt string `db:"waitlisted_at" json:"waitlistedAt,omitempty"`
}

func loadAttendees(e *core.RequestEvent) (*core.Record, []attendee, error) {
	ev, err := e.App.FindRecordById("events", e.Request.PathValue("id"))
	if err != nil {
		return nil, nil, e.NotFoundError("No such event.", nil)
	}
	if !CanManageEvent(e.Auth, ev) {
		return nil, nil, salon.Deny("event_managers_only", "Only admins and the organizer see the attendees.")
	}
	var rows []attendee
	err = e.App.DB().Select("event_rsvps.user", "users.name", "users.email", "COALESCE(ranks.name, '') AS rank",
		"event_rsvps.status", "event_rsvps.created", "event_rsvps.waitlisted_at").
		From("event_rsvps").
		InnerJoin("users", dbx.NewExp("users.id = event_rsvps.user")).
		LeftJoin("ranks", dbx.NewExp("ranks.id = users.rank")).
		Where(dbx.HashExp{"event_rsvps.event": ev.Id}).
		AndWhere(dbx.In("event_rsvps.status", RSVPGoing, RSVPWaitlist)).
		OrderBy("event_rsvps.status ASC", "event_rsvps.waitlisted_at ASC", "event_rsvps.created ASC").
		All(&rows)
	if err != nil {
		return nil, nil, fmt.Errorf("attendees of %s: %w", ev.Id, err)
	}
	if !salon.IsAdmin(e.Auth) {
		for i := range rows {
			rows[i].Email = ""
		}
	}
	return ev, rows, nil
}

func attendeesJSON(e *core.RequestEvent) error {
	_, rows, err := loadAttendees(e)
	if err != nil {
		return err
	}
	going := 0
	for _, r := range rows {
		if r.Status == RSVPGoing {
			going++
		}
	}
	return e.JSON(http.StatusOK, map[string]any{"items": rows, "going": going, "waitlist": len(rows) - going})
}

// attendeesCSV is UTF-8 with a BOM, so Excel opens Japanese names right.
func attendeesCSV(e *core.RequestEvent) error {
	ev, rows, err := loadAttendees(e)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	buf.WriteString("\uFEFF")
	w := csv.NewWriter(&buf)
	header := []string{"name", "rank", "status", "rsvp_at", "waitlist_position"}
	admin := salon.IsAdmin(e.Auth)
	if admin {
		header = append(header[:1], append([]string{"email"}, header[1:]...)...)
	}
	w.Write(header)
	pos := 0
	for _, r := range rows {
		place := ""
		if r.Status == RSVPWaitlist {
			pos++
			place = fmt.Sprint(pos)
		}
		rec := []string{salon.CsvSafe(r.Name), r.Rank, r.Status, r.RSVPAt, place}
		if admin {
			rec = append(rec[:1], append([]string{r.Email}, rec[1:]...)...)
		}
		w.Write(rec)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	e.Response.Header().Set("Content-Disposition", `attachment; filename="attendees-`+ev.Id+`.csv"`)
	return e.Blob(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}
