package events

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"
	"github.com/pocketbase/pocketbase/tools/security"

	"salonbase/hooks/notify"
	"salonbase/hooks/salon"
)

// Calendars (RFC 5545): one event as an .ics download, and a personal feed
// of the events a member attends, at a signed URL that calendar apps
// (Google, Apple, Outlook) poll without logging in. Times are written in
// UTC, which every client converts to the viewer's zone.

func calendarRoutes(g *router.RouterGroup[*core.RequestEvent]) {
	g.GET("/events/{id}/ics", eventICS).Bind(apis.RequireAuth())
	c := g.Group("/calendar")
	c.GET("/feed-url", calendarFeedURL).Bind(apis.RequireAuth("users"))
	c.POST("/reset", resetCalendarFeed).Bind(apis.RequireAuth("users"))
	c.GET("/{user}/{token}", calendarFeed) // the signature is the login
}

func eventICS(e *core.RequestEvent) error {
	ev, err := visibleEvent(e)
	if err != nil {
		return err
	}
	cal, err := buildCalendar(e.App, []*core.Record{ev}, "")
	if err != nil {
		return err
	}
	e.Response.Header().Set("Content-Disposition", `attachment; filename="event-`+ev.Id+`.ics"`)
	return e.Blob(http.StatusOK, "text/calendar; charset=utf-8", []byte(cal))
}

// CalendarFeedPath returns the signed path of user's personal feed. The
// signature covers the member's calendar_key, which a reset replaces.
func CalendarFeedPath(app core.App, user *core.Record) (string, error) {
	s, err := salon.Settings(app)
	if err != nil {
		return "", err
	}
	return "/api/salon/calendar/" + user.Id + "/" + notify.SignToken(s.GetString("notify_secret"), "calendar", user.Id, user.GetString("calendar_key")), nil
}

func calendarFeedURL(e *core.RequestEvent) error {
	path, err := CalendarFeedPath(e.App, e.Auth)
	if err != nil {
		return err
	}
	base := strings.TrimRight(e.App.Settings().Meta.AppURL, "/")
	return e.JSON(http.StatusOK, map[string]string{
		"url":    base + path,
		"webcal": "webcal://" + strings.TrimPrefix(strings.TrimPrefix(base, "https://"), "http://") + path,
	})
}

// resetCalendarFeed replaces the caller's calendar key: the old feed URL
// stops working and the answer carries the new one.
func resetCalendarFeed(e *core.RequestEvent) error {
	user, err := e.App.FindRecordById("users", e.Auth.Id)
	if err != nil {
		return err
	}
	user.Set("calendar_key", security.RandomString(32))
	if err := e.App.Save(user); err != nil {
		return fmt.Errorf("reset calendar key: %w", err)
	}
	e.Auth = user
	return calendarFeedURL(e)
}

func calendarFeed(e *core.RequestEvent) error {
	userID, token := e.Request.PathValue("user"), e.Request.PathValue("token")
	s, err := salon.Settings(e.App)
	if err != nil {
		return err
	}
	user, err := e.App.FindRecordById("users", userID)
	if err != nil || salon.IsSuspended(user) ||
		!notify.CheckToken(s.GetString("notify_secret"), token, "calendar", userID, user.GetString("calendar_key")) {
		return salon.Deny("link_invalid", "This calendar link is not valid.")
	}
	// events I go to or wait for, and the ones I organize; cancelled
	// ones stay (STATUS:CANCELLED) so calendars remove them
	var events []*core.Record
	err = e.App.RecordQuery("events").
		AndWhere(dbx.NewExp("published = TRUE AND (organizer = {:u} OR id IN "+
			"(SELECT event FROM event_rsvps WHERE user = {:u} AND status IN ('going', 'waitlist')))", dbx.Params{"u": userID})).
		AndWhere(dbx.NewExp("starts_at >= {:since}", dbx.Params{"since": salon.DbTime(time.Now().AddDate(0, -3, 0))})).
		OrderBy("starts_at ASC").
		All(&events)
	if err != nil {
		return fmt.Errorf("calendar feed: %w", err)
	}
	// an event raised above the member's rank leaves their feed (with its
	// link and place), as it leaves their lists
	visible := events[:0]
	for _, ev := range events {
		ok := ev.GetString("organizer") == userID
		if !ok {
			if ok, err = salon.HasRank(e.App, user, ev.GetString("min_rank")); err != nil {
				ok = false // a deleted minimum rank keeps the event closed
			}
		}
		if ok {
			visible = append(visible, ev)
		}
	}
	cal, err := buildCalendar(e.App, visible, salon.Name(e.App))
	if err != nil {
		return err
	}
	e.Response.Header().Set("Cache-Control", "private, max-age=300")
	return e.Blob(http.StatusOK, "text/calendar; charset=utf-8", []byte(cal))
}

// buildCalendar writes a VCALENDAR with one VEVENT per event.
func buildCalendar(app core.App, events []*core.Record, name string) (string, error) {
	base := strings.TrimRight(app.Settings().Meta.AppURL, "/")
	host := notify.MessageIDHost(base)
	var b icsWriter
	b.line("BEGIN:VCALENDAR")
	b.line("VERSION:2.0")
	b.line("PRODID:-//Salonbase//Salonbase Events//EN")
	b.line("CALSCALE:GREGORIAN")
	b.line("METHOD:PUBLISH")
	if name != "" {
		b.prop("X-WR-CALNAME", name)
	}
	for _, ev := range events {
		start := ev.GetDateTime("starts_at").Time()
		end := ev.GetDateTime("ends_at").Time()
		if ev.GetDateTime("ends_at").IsZero() {
			end = start.Add(time.Hour) // a point in time shows badly in calendars
		}
		updated := ev.GetDateTime("updated").Time()
		b.line("BEGIN:VEVENT")
		b.line("UID:event-" + ev.Id + "@" + host)
		b.line("DTSTAMP:" + icsTime(updated))
		b.line("LAST-MODIFIED:" + icsTime(updated))
		// SEQUENCE must grow with each change so clients replace the copy
		b.line(fmt.Sprintf("SEQUENCE:%d", max(updated.Unix()-1767225600, 0)/60))
		b.line("DTSTART:" + icsTime(start))
		b.line("DTEND:" + icsTime(end))
		b.prop("SUMMARY", ev.GetString("title"))
		if d := plainText(ev.GetString("description")); d != "" {
			b.prop("DESCRIPTION", d)
		}
		location := ev.GetString("location")
		if location == "" {
			location = ev.GetString("online_url")
		}
		if location != "" {
			b.prop("LOCATION", location)
		}
		link := ev.GetString("online_url")
		if link == "" && base != "" {
			link = base + "/events/" + ev.Id
		}
		if u, err := url.Parse(link); err == nil && u.Scheme != "" {
			b.line("URL:" + link)
		}
		if ev.GetBool("cancelled") {
			b.line("STATUS:CANCELLED")
		} else {
			b.line("STATUS:CONFIRMED")
		}
		b.line("END:VEVENT")
	}
	b.line("END:VCALENDAR")
	return b.String(), nil
}

func icsTime(t time.Time) string { return t.UTC().Format("20060102T150405Z") }

var tagRe = regexp.MustCompile(`<[^>]*>`)

// plainText turns the editor's HTML description into text.
func plainText(s string) string {
	s = strings.NewReplacer("<br>", "\n", "<br/>", "\n", "<br />", "\n", "</p>", "\n").Replace(s)
	return strings.TrimSpace(html.UnescapeString(tagRe.ReplaceAllString(s, "")))
}

// icsWriter writes content lines: CRLF endings, folded at 75 octets
// without splitting a UTF-8 character (RFC 5545 3.1).
type icsWriter struct{ strings.Builder }

func (w *icsWriter) prop(name, value string) {
	w.line(name + ":" + icsEscape(value))
}

func (w *icsWriter) line(s string) {
	limit := 75
	for len(s) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		w.WriteString(s[:cut])
		w.WriteString("\r\n ")
		s = s[cut:]
		limit = 74 // the leading space counts
	}
	w.WriteString(s)
	w.WriteString("\r\n")
}

// icsEscape escapes TEXT values (RFC 5545 3.3.11).
func icsEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\r\n", `\n`, "\n", `\n`, "\r", "").Replace(s)
}
