package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"

	"salonbase/hooks/salon"
)

// Notification is one in-app notice. Every feature sends them through
// Notify, so delivery (realtime, e-mail, preferences) lives in one place.
type Notification struct {
	Kind             string // e.g. "mention", "report", "follow_post"
	Title            string
	Body             string
	URL              string // where the client should take the member
	SourceCollection string
	SourceID         string
	// Vars fill in the placeholders of the kind's wording (templates.go),
	// e.g. {"SENDER": "Aki"}: the title and e-mail are then in each
	// member's language. Without them the title above is used as it is.
	Vars map[string]string
	// Words, for notices in the salon's own words rather than a member's,
	// are the title and body in each language (users.lang); a member whose
	// language has none gets Title and Body.
	Words map[string]Words
}

// Words are a notice's title and body in one language.
type Words struct{ Title, Body string }

// Delivery channels a member (or the salon default) picks per kind.
const (
	ChannelEmail = "email" // in-app and e-mail
	ChannelApp   = "app"   // in-app only
	ChannelOff   = "off"   // nothing
)

// Kinds lists the notification kinds members can set a preference for, in
// the order the preferences screen shows them, with the channel used when
// neither the member nor salon_settings.notify_defaults says otherwise.
// Kinds not listed here are delivered in-app only.
var Kinds = []struct{ Kind, Default string }{
	{"dm", ChannelEmail},
	{"mention", ChannelEmail},
	{"reply", ChannelEmail},
	{"room_post", ChannelApp},
	{"follow_post", ChannelApp},
	{"forum_follow", ChannelApp},
	{"live", ChannelEmail},
	{"event", ChannelEmail},
	{"event_reminder", ChannelEmail},
	{"event_changed", ChannelEmail},
	{"event_cancelled", ChannelEmail},
	{"waitlist_promoted", ChannelEmail},
	{"group_request", ChannelEmail},
	{"group_approved", ChannelEmail},
	{"announcement", ChannelEmail},
	{"report", ChannelEmail},
}

func knownKind(kind string) (string, bool) {
	for _, k := range Kinds {
		if k.Kind == kind {
			return k.Default, true
		}
	}
	return ChannelApp, false
}

func validChannel(c string) bool {
	return c == ChannelEmail || c == ChannelApp || c == ChannelOff
}

// notifyChunk is how many recipients share one write transaction, so that
// an announcement to every member never holds the database for long (250:
// other members' writes waited less than with 500, and every notice was
// there as soon; BENCHMARKS.md).
const notifyChunk = 250

// Notify writes one notifications record per recipient (members receive it
// live through subscribe('notifications')) and, when the member's
// preference for n.Kind is e-mail and their address is verified, queues an
// e-mail in email_outbox for the background worker. A preference of "off"
// skips the member; suspended members are skipped. Empty and repeated ids
// are skipped. Recipients are written in chunks, one transaction each (or
// inside the caller's transaction when called with one). It never talks to
// SMTP.
func Notify(app core.App, recipients []string, n Notification) error {
	ids := uniqueIDs(recipients)
	if len(ids) == 0 {
		return nil
	}
	ctx, err := newNotifyContext(app, n.Kind)
	if err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	for start := 0; start < len(ids); start += notifyChunk {
		chunk := ids[start:min(start+notifyChunk, len(ids))]
		err := app.RunInTransaction(func(tx core.App) error {
			return ctx.deliver(tx, chunk, n)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// uniqueIDs is ids without empty and repeated ones, in their order.
func uniqueIDs(recipients []string) []string {
	ids := make([]string, 0, len(recipients))
	seen := make(map[string]bool, len(recipients))
	for _, id := range recipients {
		if id != "" && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	return ids
}

// notifyContext is what Notify loads once per call.
type notifyContext struct {
	notifications *core.Collection
	outbox        *core.Collection
	defChannel    string
	salonName     string
	secret        string
	appURL        string
	templates     map[string]MailTemplate // lang → the kind's e-mail wording
}

func newNotifyContext(app core.App, kind string) (*notifyContext, error) {
	ctx := &notifyContext{appURL: strings.TrimRight(app.Settings().Meta.AppURL, "/")}
	var err error
	if ctx.notifications, err = app.FindCachedCollectionByNameOrId("notifications"); err != nil {
		return nil, err
	}
	if ctx.outbox, err = app.FindCachedCollectionByNameOrId("email_outbox"); err != nil {
		return nil, err
	}
	s, err := salon.Settings(app)
	if err != nil {
		return nil, err
	}
	ctx.salonName = salon.Name(app)
	ctx.secret = s.GetString("notify_secret")
	ctx.defChannel = salonDefault(s, kind)
	if ctx.templates, err = mailTemplates(app, kind); err != nil {
		return nil, err
	}
	return ctx, nil
}

// salonDefault is the channel for kind when a member has not chosen one.
func salonDefault(settings *core.Record, kind string) string {
	def, _ := knownKind(kind)
	var defaults map[string]string
	if raw := settings.GetString("notify_defaults"); raw != "" && raw != "null" {
		_ = json.Unmarshal([]byte(raw), &defaults) // a malformed value falls back to the built-in defaults
	}
	if c := defaults[kind]; validChannel(c) {
		return c
	}
	return def
}

type recipient struct {
	ID        string `db:"id"`
	Email     string `db:"email"`
	Name      string `db:"name"`
	Lang      string `db:"lang"`
	Verified  bool   `db:"verified"`
	Suspended bool   `db:"suspended"`
	Channel   string `db:"channel"`
}

// bulkFrom is the number of recipients from which a chunk is written as
// rows: fewer (a DM, a mention, a reply) are saved as records, with every
// record hook, as any other write.
const bulkFrom = 10

// deliver writes the notices (and e-mails) of one chunk of recipients in
// tx.
func (ctx *notifyContext) deliver(tx core.App, ids []string, n Notification) error {
	return ctx.deliverPart(tx, ids, n, true, true)
}

// deliverPart writes one chunk's in-app notices (notices) and/or its
// e-mails (mails) in tx. A record save per member (validation, hooks, a
// realtime offer per record) made an announcement to 10,000 members hold
// the single writer for seconds: from bulkFrom recipients on, only the
// members subscribed to their notifications now get their notice saved as
// a record, which runs PocketBase's realtime broadcast for them; everyone
// else's notice is inserted by one INSERT … SELECT, and every e-mail as
// the same row a save writes, 100 rows per statement. One of each kind of
// row is validated as a save would.
func (ctx *notifyContext) deliverPart(tx core.App, ids []string, n Notification, notices, mails bool) error {
	d, err := ctx.plan(tx, ids, n, notices, mails)
	if err != nil {
		return err
	}
	return d.write(tx)
}

// delivery is what deliverPart writes, read and rendered: plan makes it
// (reads only), write writes it.
type delivery struct {
	ctx     *notifyContext
	n       Notification
	now     types.DateTime
	saves   []*core.Record // validated records, saved one by one in this order
	offline []recipient    // notices inserted by one INSERT … SELECT
	queued  []*core.Record // e-mail rows inserted 100 per statement
}

// plan reads the recipients and their preferences, renders the e-mails
// and validates the records of n to ids, writing nothing.
func (ctx *notifyContext) plan(app core.App, ids []string, n Notification, notices, mails bool) (*delivery, error) {
	in := make([]any, len(ids))
	for i, id := range ids {
		in[i] = id
	}
	var rows []recipient
	err := app.DB().Select("users.id", "users.email", "users.name", "users.lang", "users.verified", "users.suspended",
		"COALESCE(notification_prefs.channel, '') AS channel").
		From("users").
		LeftJoin("notification_prefs", dbx.NewExp("notification_prefs.user = users.id AND notification_prefs.kind = {:kind}", dbx.Params{"kind": n.Kind})).
		Where(dbx.In("users.id", in...)).
		All(&rows)
	if err != nil {
		return nil, fmt.Errorf("notify: load recipients: %w", err)
	}
	// Notices in the salon's own words (Words) differ by language in body
	// too, which the one INSERT … SELECT does not carry: they go to few
	// members (the admins) and are saved one by one.
	bulk := len(rows) >= bulkFrom && len(n.Words) == 0
	online := map[string]bool{}
	if bulk && notices {
		online = onlineMembers(app)
	}
	d := &delivery{ctx: ctx, n: n, now: types.NowDateTime()}
	validated := map[string]bool{} // "mail/en", "notice/ja" …
	// a record to save is validated as a save would; in bulk, the first of
	// each kind only (the same fields from the same code)
	save := func(r *core.Record, kind string) error {
		if !bulk || !validated[kind] {
			if err := app.Validate(r); err != nil {
				return err
			}
			validated[kind] = true
		}
		d.saves = append(d.saves, r)
		return nil
	}
	for _, u := range rows {
		if u.Suspended {
			continue
		}
		channel := u.Channel
		if !validChannel(channel) {
			channel = ctx.defChannel
		}
		if channel == ChannelOff {
			continue
		}
		n := n
		n.Title = localizedTitle(u.Lang, n)
		if w, ok := n.Words[mailLang(u.Lang)]; ok {
			n.Title, n.Body = w.Title, w.Body
		}
		if notices {
			if bulk && !online[u.ID] {
				d.offline = append(d.offline, u)
			} else if err := save(ctx.notice(u.ID, n), "notice/"+mailLang(u.Lang)); err != nil {
				return nil, fmt.Errorf("notify %s: %w", u.ID, err)
			}
		}
		if !mails || channel != ChannelEmail || !u.Verified || u.Email == "" {
			continue
		}
		m, err := ctx.email(u, n)
		if err != nil {
			return nil, fmt.Errorf("notify %s: queue e-mail: %w", u.ID, err)
		}
		if !bulk {
			if err := save(m, ""); err != nil {
				return nil, fmt.Errorf("notify %s: queue e-mail: %w", u.ID, err)
			}
			continue
		}
		if err := prepareRow(app, m, d.now, validated, "mail/"+mailLang(u.Lang)); err != nil {
			return nil, fmt.Errorf("notify %s: queue e-mail: %w", u.ID, err)
		}
		d.queued = append(d.queued, m)
	}
	return d, nil
}

// write writes d in tx: the records with their hooks (the realtime
// broadcast of a notice, the outbox's wake-up), the rest as rows.
func (d *delivery) write(tx core.App) error {
	for _, r := range d.saves {
		if err := tx.SaveNoValidate(r); err != nil {
			return fmt.Errorf("notify %s: %w", r.GetString("user"), err)
		}
	}
	if err := d.ctx.insertNotices(tx, d.offline, d.n, d.now); err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	if err := insertRows(tx, d.queued); err != nil {
		return fmt.Errorf("notify: queue e-mails: %w", err)
	}
	if len(d.queued) > 0 { // a saved outbox record wakes the worker itself
		nudgeOutboxAfter(tx)
	}
	return nil
}

// Prepared is Notify in two steps: Prepare reads and renders everything
// before the caller's write transaction (which holds SQLite's one writer
// for everyone), Write only writes, in it. For the few recipients of one
// write (a DM's, a reply's); Later is for many.
type Prepared struct {
	d *delivery
}

// Prepare reads what Notify(…, recipients, n) would write, all in one
// transaction (so for a few recipients).
func Prepare(app core.App, recipients []string, n Notification) (*Prepared, error) {
	ids := uniqueIDs(recipients)
	if len(ids) == 0 {
		return &Prepared{}, nil
	}
	ctx, err := newNotifyContext(app, n.Kind)
	if err != nil {
		return nil, fmt.Errorf("notify: %w", err)
	}
	d, err := ctx.plan(app, ids, n, true, true)
	if err != nil {
		return nil, err
	}
	return &Prepared{d: d}, nil
}

// Write writes the prepared notices and e-mails in tx.
func (p *Prepared) Write(tx core.App) error {
	if p == nil || p.d == nil {
		return nil
	}
	return p.d.write(tx)
}

// notice is the notifications record of n (its title in the member's
// language) for user.
func (ctx *notifyContext) notice(user string, n Notification) *core.Record {
	r := core.NewRecord(ctx.notifications)
	r.Set("user", user)
	r.Set("kind", n.Kind)
	r.Set("title", salon.Truncate(n.Title, 200))
	r.Set("body", salon.Truncate(n.Body, 2000))
	r.Set("url", n.URL)
	r.Set("source_collection", n.SourceCollection)
	r.Set("source_id", n.SourceID)
	return r
}

// insertNotices writes the notices of members with one INSERT … SELECT
// over their users rows: the row a save writes, the same for everyone but
// the id (made as PocketBase's own column default makes it), the member
// and the title in their language. The row is validated as a save would,
// once per language.
func (ctx *notifyContext) insertNotices(tx core.App, members []recipient, n Notification, now types.DateTime) error {
	if len(members) == 0 {
		return nil
	}
	params := dbx.Params{}
	var row map[string]any
	for _, lang := range []string{"ja", "en"} {
		ln := n
		ln.Title = localizedTitle(lang, n)
		r := ctx.notice(members[0].ID, ln)
		if err := prepareRow(tx, r, now, map[string]bool{}, ""); err != nil {
			return err
		}
		params["title_"+lang] = r.GetString("title")
		exported, err := r.DBExport(tx)
		if err != nil {
			return err
		}
		row = exported
	}
	cols := make([]string, 0, len(row))
	for c := range row {
		cols = append(cols, c)
	}
	slices.Sort(cols)
	var names, values strings.Builder
	for k, c := range cols {
		if k > 0 {
			names.WriteString(", ")
			values.WriteString(", ")
		}
		names.WriteString("[[" + c + "]]")
		switch c {
		case "id":
			values.WriteString("('r'||lower(hex(randomblob(7))))")
		case "user":
			values.WriteString("[[users.id]]")
		case "title":
			values.WriteString("(CASE WHEN [[users.lang]] = 'ja' THEN {:title_ja} ELSE {:title_en} END)")
		default:
			p := fmt.Sprintf("c%d", k)
			values.WriteString("{:" + p + "}")
			params[p] = row[c]
		}
	}
	var in strings.Builder
	for i, m := range members {
		if i > 0 {
			in.WriteString(", ")
		}
		p := fmt.Sprintf("u%d", i)
		in.WriteString("{:" + p + "}")
		params[p] = m.ID
	}
	sql := "INSERT INTO {{notifications}} (" + names.String() + ") SELECT " + values.String() +
		" FROM {{users}} WHERE [[users.id]] IN (" + in.String() + ")"
	if _, err := tx.DB().NewQuery(sql).Bind(params).Execute(); err != nil {
		return fmt.Errorf("insert notices: %w", err)
	}
	return nil
}

// prepareRow gives r, a new record, its id and dates as a save would. The
// first row of each kind (the same fields from the same code, differing in
// the member and the language) is validated as a save would validate it.
func prepareRow(tx core.App, r *core.Record, now types.DateTime, validated map[string]bool, kind string) error {
	r.Set("id", core.GenerateDefaultRandomId())
	r.SetRaw("created", now)
	r.SetRaw("updated", now)
	if !validated[kind] {
		if err := tx.Validate(r); err != nil {
			return err
		}
		validated[kind] = true
	}
	return nil
}

// insertRows writes new records of one collection with the columns and
// values a save would write, but without a save's hooks, 100 rows per
// INSERT (a statement per row cost as much as the save it replaced).
func insertRows(tx core.App, recs []*core.Record) error {
	const perStatement = 100
	for start := 0; start < len(recs); start += perStatement {
		batch := recs[start:min(start+perStatement, len(recs))]
		var cols []string
		var sql strings.Builder
		params := dbx.Params{}
		for i, r := range batch {
			row, err := r.DBExport(tx)
			if err != nil {
				return err
			}
			if i == 0 {
				for c := range row {
					cols = append(cols, c)
				}
				slices.Sort(cols)
				sql.WriteString("INSERT INTO {{" + r.Collection().Name + "}} (")
				for k, c := range cols {
					if k > 0 {
						sql.WriteString(", ")
					}
					sql.WriteString("[[" + c + "]]")
				}
				sql.WriteString(") VALUES ")
			} else {
				sql.WriteString(", ")
			}
			sql.WriteString("(")
			for k, c := range cols {
				if k > 0 {
					sql.WriteString(", ")
				}
				p := fmt.Sprintf("p%d_%d", i, k)
				sql.WriteString("{:" + p + "}")
				params[p] = row[c]
			}
			sql.WriteString(")")
		}
		if _, err := tx.DB().NewQuery(sql.String()).Bind(params).Execute(); err != nil {
			return err
		}
	}
	return nil
}

// nudgeOutboxAfter wakes the mail worker once tx has committed (a saved
// outbox record does that through its hook; inserted rows do not).
func nudgeOutboxAfter(tx core.App) {
	w, ok := tx.Store().Get(outboxStoreKey).(*OutboxWorker)
	if !ok {
		return
	}
	if info := tx.TxInfo(); info != nil {
		info.OnComplete(func(txErr error) error {
			if txErr == nil {
				w.Nudge()
			}
			return nil
		})
		return
	}
	w.Nudge()
}

// email is the outbox record of n's e-mail to u.
func (ctx *notifyContext) email(u recipient, n Notification) (*core.Record, error) {
	link := n.URL
	if link != "" && !strings.Contains(link, "://") {
		link = ctx.appURL + "/" + strings.TrimLeft(link, "/")
	}
	unsub := ctx.appURL + "/api/salon/notifications/unsubscribe?" + url.Values{
		"u": {u.ID}, "k": {n.Kind}, "t": {SignToken(ctx.secret, "unsubscribe", u.ID, n.Kind)},
	}.Encode()
	n.Title, n.Body = salon.Truncate(n.Title, 200), salon.Truncate(n.Body, 2000)
	vals := mailValues(ctx.salonName, ctx.appURL, u.Name, u.Lang, n, link)
	subject, text, html, err := renderEmail(u.Lang, ctx.templates[mailLang(u.Lang)], vals, unsub)
	if err != nil {
		return nil, err
	}
	m := core.NewRecord(ctx.outbox)
	m.Set("user", u.ID)
	m.Set("to", u.Email)
	m.Set("to_name", u.Name)
	m.Set("kind", n.Kind)
	m.Set("subject", salon.Truncate(subject, 300))
	m.Set("text", text)
	m.Set("html", html)
	m.Set("headers", map[string]string{
		// RFC 2369 / RFC 8058: mail clients show their own unsubscribe button
		"List-Unsubscribe":      "<" + unsub + ">",
		"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
	})
	m.Set("status", "pending")
	m.Set("next_attempt_at", salon.NowUTC())
	return m, nil
}

// SignToken returns an HMAC-SHA256 signature of purpose and parts under
// secret (salon_settings.notify_secret), URL-safe. Unsubscribe links and
// calendar feed URLs carry one instead of a login.
func SignToken(secret, purpose string, parts ...string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(purpose))
	for _, p := range parts {
		mac.Write([]byte{0})
		mac.Write([]byte(p))
	}
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// CheckToken compares in constant time.
func CheckToken(secret, token, purpose string, parts ...string) bool {
	if secret == "" || token == "" {
		return false
	}
	return hmac.Equal([]byte(token), []byte(SignToken(secret, purpose, parts...)))
}
