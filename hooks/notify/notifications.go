package notify

import (
	"database/sql"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"

	"salonbase/hooks/salon"
)

// The notifications a member reads (the records themselves are read and
// marked read through the stock notifications collection API), their
// preferences, the e-mail unsubscribe link and the nightly pruning.
func bindNotifications(app core.App) {
	bindOutbox(app)
	bindMailTemplates(app)
	bindNotificationRealtime(app)

	app.Cron().MustAdd("salonNotificationsPrune", "17 3 * * *", func() {
		if err := PruneNotifications(app, time.Now()); err != nil {
			app.Logger().Error("prune notifications", "error", err)
		}
	})
}

// notificationRoutes binds /api/salon/notifications/… to g (/api/salon).
func notificationRoutes(g *router.RouterGroup[*core.RequestEvent]) {
	n := g.Group("/notifications")
	n.GET("/unread-count", unreadCount).Bind(apis.RequireAuth("users"))
	n.POST("/read-all", readAll).Bind(apis.RequireAuth("users"))
	n.GET("/prefs", getPrefs).Bind(apis.RequireAuth("users"))
	n.POST("/prefs", setPrefs).Bind(apis.RequireAuth("users"))
	n.POST("/announce", announce).Bind(apis.RequireAuth())
	// no login: the signed token in the link is the proof
	n.GET("/unsubscribe", unsubscribePage)
	n.POST("/unsubscribe", unsubscribe)
}

// announce sends an operator's announcement to every active member (or
// those of min_rank and above). It answers 202 once the notices are queued
// (a job, see Later); they are written in the background, 500 members per
// transaction, and the e-mails leave at the salon's rate.
func announce(e *core.RequestEvent) error {
	if !salon.IsAdmin(e.Auth) {
		return salon.Deny("admins_only", "Only admins send announcements.")
	}
	var body struct {
		Title   string `json:"title"`
		Body    string `json:"body"`
		URL     string `json:"url"`
		MinRank string `json:"min_rank"`
	}
	if err := e.BindBody(&body); err != nil {
		return e.BadRequestError("Send {title, body, url, min_rank}.", err)
	}
	if body.Title == "" || len([]rune(body.Title)) > 200 || len([]rune(body.Body)) > 2000 {
		return e.BadRequestError("An announcement needs a title (at most 200 characters) and a body of at most 2000.", nil)
	}
	if body.MinRank != "" {
		if _, err := e.App.FindRecordById("ranks", body.MinRank); err != nil {
			return e.BadRequestError("Unknown min_rank.", nil)
		}
	}
	ids, err := salon.MemberIDsWithRank(e.App, body.MinRank, "")
	if err != nil {
		return err
	}
	// queued before the answer, so a crash after the 202 loses nothing
	if err := Later(e.App, ids, Notification{Kind: "announcement", Title: body.Title, Body: body.Body, URL: body.URL}); err != nil {
		return fmt.Errorf("announcement: %w", err)
	}
	return e.JSON(http.StatusAccepted, map[string]any{"recipients": len(ids)})
}

func unreadCount(e *core.RequestEvent) error {
	n, err := e.App.CountRecords("notifications", dbx.HashExp{"user": e.Auth.Id, "read": false})
	if err != nil {
		return fmt.Errorf("unread count: %w", err)
	}
	return e.JSON(http.StatusOK, map[string]any{"count": n})
}

// readAll marks every unread notification of the caller read. It goes
// through record saves so subscribed clients see the change live.
func readAll(e *core.RequestEvent) error {
	var updated int
	err := e.App.RunInTransaction(func(tx core.App) error {
		recs, err := tx.FindAllRecords("notifications", dbx.HashExp{"user": e.Auth.Id, "read": false})
		if err != nil {
			return err
		}
		for _, r := range recs {
			r.Set("read", true)
			if err := tx.Save(r); err != nil {
				return err
			}
		}
		updated = len(recs)
		return nil
	})
	if err != nil {
		return fmt.Errorf("mark all read: %w", err)
	}
	return e.JSON(http.StatusOK, map[string]any{"updated": updated})
}

type prefItem struct {
	Kind    string `json:"kind"`
	Channel string `json:"channel"` // what applies now
	Default string `json:"default"` // the salon default
	Custom  bool   `json:"custom"`  // the member chose it
}

// Prefs returns the effective channel per kind for user.
func Prefs(app core.App, userID string) ([]prefItem, error) {
	s, err := salon.Settings(app)
	if err != nil {
		return nil, err
	}
	recs, err := app.FindAllRecords("notification_prefs", dbx.HashExp{"user": userID})
	if err != nil {
		return nil, fmt.Errorf("load prefs: %w", err)
	}
	mine := map[string]string{}
	for _, r := range recs {
		mine[r.GetString("kind")] = r.GetString("channel")
	}
	items := make([]prefItem, 0, len(Kinds))
	for _, k := range Kinds {
		it := prefItem{Kind: k.Kind, Default: salonDefault(s, k.Kind)}
		it.Channel, it.Custom = mine[k.Kind]
		if !it.Custom {
			it.Channel = it.Default
		}
		items = append(items, it)
	}
	return items, nil
}

func getPrefs(e *core.RequestEvent) error {
	items, err := Prefs(e.App, e.Auth.Id)
	if err != nil {
		return err
	}
	return e.JSON(http.StatusOK, map[string]any{"items": items})
}

// setPrefs takes {"kind": "email"|"app"|"off"|"default", ...}.
func setPrefs(e *core.RequestEvent) error {
	var body map[string]string
	if err := e.BindBody(&body); err != nil || len(body) == 0 {
		return e.BadRequestError(`Send {"<kind>": "email" | "app" | "off" | "default"}.`, err)
	}
	for kind, ch := range body {
		if _, ok := knownKind(kind); !ok {
			return e.BadRequestError(fmt.Sprintf("Unknown notification kind %q.", kind), nil)
		}
		if !validChannel(ch) && ch != "default" {
			return e.BadRequestError(fmt.Sprintf("Channel for %q must be email, app, off or default.", kind), nil)
		}
	}
	err := e.App.RunInTransaction(func(tx core.App) error {
		for kind, ch := range body {
			if err := SetPref(tx, e.Auth.Id, kind, ch); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return getPrefs(e)
}

// SetPref stores user's channel for kind; "default" removes the choice.
func SetPref(app core.App, userID, kind, channel string) error {
	existing, err := app.FindFirstRecordByFilter("notification_prefs", "user = {:u} && kind = {:k}", dbx.Params{"u": userID, "k": kind})
	if errors.Is(err, sql.ErrNoRows) {
		existing = nil
	} else if err != nil {
		return fmt.Errorf("load pref %s: %w", kind, err)
	}
	if channel == "default" {
		if existing == nil {
			return nil
		}
		return app.Delete(existing)
	}
	if existing == nil {
		c, err := app.FindCachedCollectionByNameOrId("notification_prefs")
		if err != nil {
			return err
		}
		existing = core.NewRecord(c)
		existing.Set("user", userID)
		existing.Set("kind", kind)
	}
	existing.Set("channel", channel)
	if err := app.Save(existing); err != nil {
		return fmt.Errorf("save pref %s: %w", kind, err)
	}
	return nil
}

// unsubscribeTarget checks the link's signature and returns the member and
// kind it names, or an API error.
func unsubscribeTarget(e *core.RequestEvent) (*core.Record, string, error) {
	q := e.Request.URL.Query()
	userID, kind, token := q.Get("u"), q.Get("k"), q.Get("t")
	s, err := salon.Settings(e.App)
	if err != nil {
		return nil, "", err
	}
	if _, known := knownKind(kind); !known || !CheckToken(s.GetString("notify_secret"), token, "unsubscribe", userID, kind) {
		return nil, "", salon.Deny("link_invalid", "This unsubscribe link is not valid (it may be incomplete or outdated). Change your e-mail settings in the salon instead.")
	}
	user, err := e.App.FindRecordById("users", userID)
	if err != nil {
		return nil, "", e.NotFoundError("This member no longer exists.", nil)
	}
	return user, kind, nil
}

var unsubscribeHTML = template.Must(template.New("unsub").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{{.Title}}</title></head>
<body style="font-family:sans-serif;max-width:32em;margin:3em auto">
<h1 style="font-size:20px">{{.Title}}</h1>
<p>{{.Text}}</p>
{{if .Action}}<form method="post" action="{{.Action}}"><button type="submit">{{.Button}}</button></form>{{end}}
</body></html>`))

// unsubscribePage asks for a click: mail scanners follow GET links, so only
// the POST (the button, or a mail client's RFC 8058 one-click) changes the
// preference.
func unsubscribePage(e *core.RequestEvent) error {
	user, kind, err := unsubscribeTarget(e)
	if err != nil {
		return err
	}
	ja := user.GetString("lang") == "ja"
	data := map[string]string{
		"Title":  "Stop these e-mails?",
		"Text":   fmt.Sprintf("You will no longer receive e-mails for %q notifications. They stay visible in the salon.", kind),
		"Button": "Stop e-mails",
		"Action": e.Request.URL.RequestURI(),
	}
	if ja {
		data["Title"] = "メール通知を停止しますか？"
		data["Text"] = fmt.Sprintf("「%s」の通知メールを停止します。サロン内の通知は引き続き表示されます。", kind)
		data["Button"] = "メールを停止する"
	}
	return renderPage(e, data)
}

func unsubscribe(e *core.RequestEvent) error {
	user, kind, err := unsubscribeTarget(e)
	if err != nil {
		return err
	}
	if err := SetPref(e.App, user.Id, kind, ChannelApp); err != nil {
		return err
	}
	data := map[string]string{
		"Title": "Unsubscribed",
		"Text":  fmt.Sprintf("You will no longer receive e-mails for %q notifications.", kind),
	}
	if user.GetString("lang") == "ja" {
		data["Title"] = "停止しました"
		data["Text"] = fmt.Sprintf("「%s」の通知メールを停止しました。", kind)
	}
	return renderPage(e, data)
}

func renderPage(e *core.RequestEvent, data map[string]string) error {
	e.Response.Header().Set("Content-Type", "text/html; charset=utf-8")
	e.Response.WriteHeader(http.StatusOK)
	return unsubscribeHTML.Execute(e.Response, data)
}

// PruneNotifications deletes notifications older than the salon's
// retention, and outbox rows that are done (sent a month ago, failed three
// months ago). The nightly cron calls it; it takes now for tests.
func PruneNotifications(app core.App, now time.Time) error {
	s, err := salon.Settings(app)
	if err != nil {
		return err
	}
	if days := s.GetInt("notify_retention_days"); days > 0 {
		cutoff := now.Add(-time.Duration(days) * 24 * time.Hour)
		if err := deleteRecords(app, "notifications", dbx.NewExp("created < {:c}", dbx.Params{"c": salon.DbTime(cutoff)})); err != nil {
			return err
		}
	}
	return deleteRecords(app, "email_outbox", dbx.Or(
		dbx.NewExp("status = 'sent' AND sent_at < {:c}", dbx.Params{"c": salon.DbTime(now.AddDate(0, -1, 0))}),
		dbx.NewExp("status = 'failed' AND updated < {:f}", dbx.Params{"f": salon.DbTime(now.AddDate(0, -3, 0))}),
	))
}

// deleteRecords deletes in batches through the app, so delete hooks (and
// realtime) see each record without one huge transaction.
func deleteRecords(app core.App, collection string, where dbx.Expression) error {
	for {
		var batch []*core.Record
		if err := app.RecordQuery(collection).AndWhere(where).Limit(500).All(&batch); err != nil {
			return fmt.Errorf("prune %s: %w", collection, err)
		}
		if len(batch) == 0 {
			return nil
		}
		err := app.RunInTransaction(func(tx core.App) error {
			for _, r := range batch {
				if err := tx.Delete(r); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("prune %s: %w", collection, err)
		}
	}
}
