package dm

import (
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/filesystem"
	"github.com/pocketbase/pocketbase/tools/router"
	"github.com/pocketbase/pocketbase/tools/types"
	"github.com/spf13/cast"

	"salonbase/hooks/notify"
	"salonbase/hooks/salon"
)

// Direct messages: e-mail-like messages between members through the stock
// records API of dm_messages, plus the conversation list and "mark
// conversation read" routes.
//
// Who may send is decided by CanDM (policy.go) in the create hook; who may
// read or change what by DMReadAccess and DMEditableFields. The collection
// rules (pb_migrations/1795420001_dm_messages.go) say the same, and
// GuardDMWrites answers a forbidden field with a clear message before the
// rules answer it with PocketBase's generic 400/404. Every read of someone
// else's conversation by an admin or superuser is written to dm_audit.

const defaultDMAttachmentMB = 20

func dmRoutes(g *router.RouterGroup[*core.RequestEvent]) {
	dm := g.Group("/dm").Bind(apis.RequireAuth("users"))
	dm.GET("/conversations", listDMConversations)
	dm.GET("/unread", countDMUnread)
	dm.POST("/conversations/{userId}/read", markDMConversationRead)
	dm.GET("/can-write/{userId}", canWrite)
}

func bindDM(app core.App) {
	app.OnRecordCreateRequest("dm_messages").BindFunc(sendDM)
	app.OnRecordUpdateRequest("dm_messages").BindFunc(updateDM)
	app.OnRecordDeleteRequest("dm_messages").BindFunc(deleteDM)

	// every way a message leaves the server: list, view, expand, realtime
	app.OnRecordEnrich("dm_messages").BindFunc(enrichDM)
	app.OnFileDownloadRequest("dm_messages").BindFunc(auditDMFile)

	// the audit log is append-only, written only by this file
	app.OnRecordCreateRequest("dm_audit").BindFunc(func(e *core.RecordRequestEvent) error {
		return salon.Deny("dm_audit_readonly", "The DM audit log is written by the server only.")
	})
	app.OnRecordUpdate("dm_audit").BindFunc(func(e *core.RecordEvent) error {
		return salon.Deny("dm_audit_readonly", "The DM audit log cannot be changed.")
	})
	app.OnRecordDelete("dm_audit").BindFunc(func(e *core.RecordEvent) error {
		return salon.Deny("dm_audit_readonly", "The DM audit log cannot be deleted.")
	})
}

// ---------------------------------------------------------------------------
// Send
// ---------------------------------------------------------------------------

// sendDM validates a new message, applies the DM policy and idempotency,
// and saves it together with the recipient's notification.
func sendDM(e *core.RecordRequestEvent) error {
	superuser := e.HasSuperuserAuth()
	msg := e.Record
	if !superuser {
		if !salon.IsMember(e.Auth) {
			return salon.Deny("not_member", "Only members can send direct messages.")
		}
		if err := newDMFieldsError(e.Auth.Id, msg.GetString("sender"), msg.GetString("read_at"),
			msg.GetBool("sender_deleted"), msg.GetBool("recipient_deleted")); err != nil {
			return err
		}
		msg.Set("sender", e.Auth.Id)
	}

	if replay, err := replayDM(e); replay || err != nil {
		return err
	}

	// a member sends as themselves: their record is the request's, loaded
	// with the token (a superuser names the sender)
	sender := e.Auth
	if superuser {
		var err error
		if sender, err = e.App.FindRecordById("users", msg.GetString("sender")); err != nil {
			return e.BadRequestError("Say who sends the message (sender).", nil)
		}
	}
	if msg.GetString("recipient") == "" {
		return e.BadRequestError("Say whom the message is for (recipient).", nil)
	}
	recipient, err := e.App.FindRecordById("users", msg.GetString("recipient"))
	if err != nil {
		return e.BadRequestError("The recipient does not exist.", nil)
	}

	replying, err := dmReplyTo(e, sender.Id, recipient.Id)
	if err != nil {
		return err
	}

	files := msg.GetUnsavedFiles("attachments")
	if strings.TrimSpace(msg.GetString("body")) == "" && len(files) == 0 {
		return e.BadRequestError("Write a message or attach a file.", nil)
	}
	if err := checkDMAttachments(e, files); err != nil {
		return err
	}

	if !superuser {
		if err := CanDM(e.App, sender, recipient, replying); err != nil {
			if r, ok := salon.AsRefusal(DMRefusal(err)); ok {
				// data.reason.code names the rule for clients (dm_rank_too_low …);
				// data.recipient is the same item, the older place of it
				answer := r.ApiError()
				answer.Data["recipient"] = answer.Data["reason"]
				return answer
			}
			return fmt.Errorf("dm policy: %w", err)
		}
	}

	// the recipient's notice and e-mail are read and rendered first, and
	// written in the transaction of the message's insert (which holds
	// SQLite's one writer): they commit with it or not at all
	if err := salon.NewID(msg); err != nil {
		return err
	}
	notice, err := notify.Prepare(e.App, []string{recipient.Id}, notify.Notification{
		Kind:             "dm",
		Title:            "New message from " + sender.GetString("name"),
		Body:             dmPreview(msg),
		URL:              "/dm/" + sender.Id,
		SourceCollection: "dm_messages",
		SourceID:         msg.Id,
		Vars:             map[string]string{"SENDER": sender.GetString("name")},
	})
	if err != nil {
		return err
	}
	done := salon.WithInsert(e.App, msg, notice.Write)
	err = e.Next()
	done()
	if err != nil && msg.GetString("client_id") != "" {
		// a concurrent retry with the same client_id won the race
		if replay, rerr := replayDM(e); replay || rerr != nil {
			return rerr
		}
	}
	return err
}

// DMRefusal gives a DM policy refusal the code clients see, prefixed with
// dm_ (dm_rank_too_low, dm_blocked …) so it cannot be mistaken for another
// rule's; other errors pass unchanged. Calls answer with it too.
func DMRefusal(err error) error {
	r, ok := salon.AsRefusal(err)
	if !ok || strings.HasPrefix(r.Code, "dm_") {
		return err
	}
	return &salon.Refusal{Status: r.Status, Code: "dm_" + r.Code, Reason: r.Reason}
}

// newDMFieldsError refuses the fields a sender never sets on a new message.
func newDMFieldsError(authID, sender, readAt string, senderDeleted, recipientDeleted bool) error {
	if sender != "" && sender != authID {
		return salon.Deny("not_yours", "You can only send messages as yourself.")
	}
	if readAt != "" {
		return apis.NewBadRequestError("The recipient sets read_at when they read the message.", nil)
	}
	if senderDeleted || recipientDeleted {
		return apis.NewBadRequestError("A new message cannot be marked deleted.", nil)
	}
	return nil
}

// replayDM answers a retried send (same sender and client_id) with the
// message the first attempt created. replay reports whether it answered.
func replayDM(e *core.RecordRequestEvent) (replay bool, err error) {
	clientID := e.Record.GetString("client_id")
	if clientID == "" {
		return false, nil
	}
	// hand-written so that the "client_id != ''" term matches the partial
	// unique index (sender, client_id) exactly and SQLite uses it
	var id string
	err = e.App.DB().NewQuery(`SELECT id FROM dm_messages
		WHERE sender = {:sender} AND client_id = {:client} AND client_id != '' LIMIT 1`).
		Bind(dbx.Params{"sender": e.Record.GetString("sender"), "client": clientID}).
		Row(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return true, fmt.Errorf("dm client_id lookup: %w", err)
	}
	existing, err := e.App.FindRecordById("dm_messages", id)
	if err != nil {
		return true, fmt.Errorf("dm client_id lookup: %w", err)
	}
	if existing.GetString("recipient") != e.Record.GetString("recipient") {
		return true, salon.Refuse(http.StatusConflict, "dm_client_id_reused",
			"This client_id was already used for a message to someone else.")
	}
	if err := apis.EnrichRecord(e.RequestEvent, existing); err != nil {
		return true, err
	}
	return true, e.JSON(http.StatusOK, existing)
}

// dmReplyTo checks reply_to and reports whether the message answers one
// the recipient sent to the sender (DM policy rule 8).
func dmReplyTo(e *core.RecordRequestEvent, sender, recipient string) (bool, error) {
	id := e.Record.GetString("reply_to")
	if id == "" {
		return false, nil
	}
	bad := e.BadRequestError("The replied message (reply_to) must be one between you and the recipient.", nil)
	parent, err := e.App.FindRecordById("dm_messages", id)
	if err != nil {
		return false, bad
	}
	ps, pr := parent.GetString("sender"), parent.GetString("recipient")
	switch {
	case ps == recipient && pr == sender:
		return true, nil
	case ps == sender && pr == recipient: // a follow-up to one's own message
		return false, nil
	}
	return false, bad
}

// checkDMAttachments applies the salon's per-file size limit; the schema's
// MaxSize is the hard cap above it.
func checkDMAttachments(e *core.RecordRequestEvent, files []*filesystem.File) error {
	if len(files) == 0 {
		return nil
	}
	settings, err := salon.Settings(e.App)
	if err != nil {
		return err
	}
	limitMB := settings.GetInt("dm_max_attachment_mb")
	if limitMB <= 0 {
		limitMB = defaultDMAttachmentMB
	}
	for _, f := range files {
		if f.Size > int64(limitMB)<<20 {
			return e.BadRequestError(fmt.Sprintf("%s is larger than %d MB, the limit for attachments.", f.OriginalName, limitMB), nil)
		}
	}
	return nil
}

func dmPreview(msg *core.Record) string {
	if s := msg.GetString("subject"); s != "" {
		return s
	}
	return salon.Truncate(strings.TrimSpace(msg.GetString("body")), 140)
}

// ---------------------------------------------------------------------------
// Update and delete
// ---------------------------------------------------------------------------

// updateDM lets each party change only their own flags (DMEditableFields);
// read_at is stamped by the server.
func updateDM(e *core.RecordRequestEvent) error {
	if e.HasSuperuserAuth() {
		return e.Next()
	}
	if e.Auth == nil { // the update rule already refused; never reached
		return e.NotFoundError("", nil)
	}
	orig := e.Record.Original()
	editable := DMEditableFields(e.Auth.Id, orig.GetString("sender"), orig.GetString("recipient"))
	for _, f := range e.Record.Collection().Fields {
		name := f.GetName()
		if name == "updated" || slices.Contains(editable, name) {
			continue
		}
		if fmt.Sprint(e.Record.Get(name)) != fmt.Sprint(orig.Get(name)) {
			return dmReadonly(editable)
		}
	}
	if len(e.Record.GetUnsavedFiles("attachments")) > 0 {
		return dmReadonly(editable)
	}
	// the deletion flags are hidden fields, left out of the loaded data:
	// each party sets their own (GuardDMWrites refused anything else)
	var flags []string
	for _, f := range editable {
		if f == "sender_deleted" || f == "recipient_deleted" {
			flags = append(flags, f)
		}
	}
	if err := salon.SetSubmitted(e.RequestEvent, e.Record, flags...); err != nil {
		return e.BadRequestError("Failed to read the submitted data.", err)
	}
	// read_at is when the server first saw the recipient read it; "" marks
	// the message unread again
	if e.Record.GetString("read_at") != "" {
		if was := orig.GetString("read_at"); was != "" {
			e.Record.Set("read_at", was)
		} else {
			e.Record.Set("read_at", types.NowDateTime())
		}
	}
	return e.Next()
}

func dmReadonly(editable []string) *salon.Refusal {
	if len(editable) == 0 {
		return salon.Deny("dm_field_readonly", "You cannot change this message.")
	}
	return salon.Deny("dm_field_readonly", "On this message you can only change %s.", strings.Join(editable, " and "))
}

// deleteDM: a party's delete hides the message from their own view only
// (the other side and moderation keep it); an admin who is not a party, or
// a superuser, deletes it for everyone.
func deleteDM(e *core.RecordRequestEvent) error {
	if e.HasSuperuserAuth() {
		return e.Next()
	}
	if e.Auth == nil { // the delete rule already refused; never reached
		return e.NotFoundError("", nil)
	}
	flag := ""
	switch e.Auth.Id {
	case e.Record.GetString("sender"):
		flag = "sender_deleted"
	case e.Record.GetString("recipient"):
		flag = "recipient_deleted"
	}
	if flag == "" {
		return e.Next() // the delete rule let only admins through
	}
	e.Record.Set(flag, true)
	if err := e.App.Save(e.Record); err != nil {
		return fmt.Errorf("delete dm for %s: %w", e.Auth.Id, err)
	}
	return e.NoContent(http.StatusNoContent)
}

// GuardDMWrites answers a member's attempt to write a field that is not
// theirs with a clear message, before the collection rules refuse the same
// with PocketBase's generic 400 (create) or 404 (update).
func GuardDMWrites(e *core.RequestEvent) error {
	method := e.Request.Method
	if (method != http.MethodPost && method != http.MethodPatch) ||
		!strings.HasPrefix(e.Request.URL.Path, "/api/collections/") ||
		e.HasSuperuserAuth() {
		return e.Next()
	}
	name := e.Request.PathValue("collection")
	if name == "" {
		return e.Next()
	}
	collection, err := e.App.FindCachedCollectionByNameOrId(name)
	if err != nil || collection.Name != "dm_messages" {
		return e.Next()
	}
	id := e.Request.PathValue("id")
	if !salon.IsMember(e.Auth) {
		if method == http.MethodPost && id == "" {
			if e.Auth == nil {
				return salon.Refuse(http.StatusUnauthorized, "login", "Log in to send direct messages.")
			}
			return salon.Deny("not_member", "Only members can send direct messages.")
		}
		return e.Next() // updates: the rules answer 404
	}
	info, err := e.RequestInfo()
	if err != nil {
		return e.Next() // the records handler reports the malformed body
	}
	body := info.Body

	if method == http.MethodPost && id == "" {
		if err := newDMFieldsError(e.Auth.Id, formString(body["sender"]), formString(body["read_at"]),
			cast.ToBool(formString(body["sender_deleted"])), cast.ToBool(formString(body["recipient_deleted"]))); err != nil {
			return err
		}
		return e.Next()
	}
	if method != http.MethodPatch || id == "" {
		return e.Next()
	}
	orig, err := e.App.FindRecordById(collection, id)
	if err != nil {
		return e.Next()
	}
	editable := DMEditableFields(e.Auth.Id, orig.GetString("sender"), orig.GetString("recipient"))
	if editable == nil {
		return e.Next() // not a party: the rules answer 404
	}
	for key, value := range body {
		field := strings.Trim(key, "+-")
		f := collection.Fields.GetByName(field)
		if f == nil || f.Type() == core.FieldTypeAutodate || slices.Contains(editable, field) {
			continue // unknown keys and timestamps are ignored by PocketBase
		}
		if field != key || formString(value) != orig.GetString(field) {
			return dmReadonly(editable)
		}
	}
	return e.Next()
}

// formString reads one JSON or multipart form value as a string.
func formString(v any) string {
	if list, ok := v.([]string); ok {
		if len(list) == 1 {
			return list[0]
		}
		return strings.Join(list, ",")
	}
	if v == nil {
		return ""
	}
	return cast.ToString(v)
}

// ---------------------------------------------------------------------------
// Moderation audit
// ---------------------------------------------------------------------------

// enrichDM runs whenever a message is about to be shown: lists, views,
// expands and realtime events alike. A party does not learn whether the
// other side deleted the message for themselves. A read by an admin or
// superuser who is not a party is written to dm_audit first, so no path
// around the log exists; a failed write fails the read.
func enrichDM(e *core.RecordEnrichEvent) error {
	// both flags are hidden in the schema (so a sender cannot filter by
	// recipient_deleted); each party gets their own back, admins both
	if auth := e.RequestInfo.Auth; salon.IsAdmin(auth) {
		e.Record.Unhide("sender_deleted", "recipient_deleted")
	} else if auth != nil && auth.Collection().Name == "users" {
		switch auth.Id {
		case e.Record.GetString("sender"):
			e.Record.Unhide("sender_deleted")
		case e.Record.GetString("recipient"):
			e.Record.Unhide("recipient_deleted")
		}
	}
	via := "api"
	if e.RequestInfo.Context == core.RequestInfoContextRealtime {
		via = "realtime"
	}
	if err := auditDMRead(e.App, e.RequestInfo, e.RequestInfo.Auth, e.Record, via); err != nil {
		return err
	}
	return e.Next()
}

// auditDMFile audits protected attachment downloads; the file token, not
// the Authorization header, names the reader.
func auditDMFile(e *core.FileDownloadRequestEvent) error {
	reader, _ := e.App.FindAuthRecordByToken(e.Request.URL.Query().Get("token"), core.TokenTypeFile)
	if err := auditDMRead(e.App, nil, reader, e.Record, "file"); err != nil {
		return err
	}
	return e.Next()
}

// auditSeen remembers which conversations one request has already audited,
// so a page of 30 messages from one conversation is one row. The key holds
// the request's *RequestInfo, which PocketBase shares among all records of
// one request and creates anew per realtime event. One per app (in its
// store), so apps in one process never share it.
type auditSeen struct {
	sync.Mutex
	m map[dmAuditKey]time.Time
}

func auditSeenOf(app core.App) *auditSeen {
	return app.Store().GetOrSet("salon.dmAuditSeen", func() any {
		return &auditSeen{m: map[dmAuditKey]time.Time{}}
	}).(*auditSeen)
}

type dmAuditKey struct {
	info   *core.RequestInfo
	reader string
	pair   string
}

func auditDMRead(app core.App, info *core.RequestInfo, reader, msg *core.Record, via string) error {
	a, b := msg.GetString("sender"), msg.GetString("recipient")
	if _, audited := DMReadAccess(reader, a, b); !audited {
		return nil
	}
	if b < a {
		a, b = b, a
	}
	if info != nil && !dmAuditFirst(app, dmAuditKey{info, reader.Id, a + "/" + b}) {
		return nil
	}

	collection, err := app.FindCachedCollectionByNameOrId("dm_audit")
	if err != nil {
		return fmt.Errorf("dm audit: %w", err)
	}
	row := core.NewRecord(collection)
	row.Set("reader_collection", reader.Collection().Name)
	row.Set("reader_id", reader.Id)
	name := reader.GetString("name")
	if name == "" {
		name = reader.Email()
	}
	row.Set("reader_name", salon.Truncate(name, 255))
	row.Set("party_a", a)
	row.Set("party_b", b)
	row.Set("party_names", salon.Truncate(dmPartyNames(app, a, b), 255))
	row.Set("message", msg.Id)
	row.Set("via", via)
	if err := app.Save(row); err != nil {
		return fmt.Errorf("dm audit: %w", err)
	}
	return nil
}

func dmAuditFirst(app core.App, key dmAuditKey) bool {
	dmAuditSeen := auditSeenOf(app)
	dmAuditSeen.Lock()
	defer dmAuditSeen.Unlock()
	now := time.Now()
	if _, seen := dmAuditSeen.m[key]; seen {
		return false
	}
	if len(dmAuditSeen.m) > 1000 {
		for k, at := range dmAuditSeen.m {
			if now.Sub(at) > time.Minute {
				delete(dmAuditSeen.m, k)
			}
		}
	}
	dmAuditSeen.m[key] = now
	return true
}

func dmPartyNames(app core.App, ids ...string) string {
	names := make([]string, 0, len(ids))
	for _, id := range ids {
		name := "(deleted member)"
		if u, err := app.FindRecordById("users", id); err == nil {
			name = u.GetString("name")
		}
		names = append(names, name)
	}
	return strings.Join(names, " ↔ ")
}

// ---------------------------------------------------------------------------
// Conversations
// ---------------------------------------------------------------------------

// dmConversation is one row of the conversation list: a counterpart, the
// newest message between the two and how many of theirs are unread.
type dmConversation struct {
	UserID      string       `json:"userId"`
	User        *core.Record `json:"user"` // nil when the member was deleted
	LastMessage *core.Record `json:"lastMessage"`
	Unread      int          `json:"unread"`
}

// listDMConversations answers GET /api/salon/dm/conversations: the
// caller's conversations, newest first, paginated (?page=, ?perPage=).
// It is a route rather than a view collection because a view cannot take
// the caller as a parameter: it would aggregate every member's mailbox
// before filtering, while this query reads only the caller's rows through
// the (sender, created) and (recipient, created) indexes.
func listDMConversations(e *core.RequestEvent) error {
	if !salon.IsMember(e.Auth) {
		return salon.Deny("not_member", "Only members have direct messages.")
	}
	// perPage above the maximum is trimmed to it, as it always was
	query := e.Request.URL.Query()
	if n, convErr := strconv.Atoi(query.Get("perPage")); convErr == nil && n > 100 {
		query.Set("perPage", "100")
	}
	page, perPage, err := salon.PageParams(query, 30, 100)
	if err != nil {
		return err
	}

	me := e.Auth.Id
	// rowid instead of id: the two indexes cover every column used here,
	// so SQLite never reads the messages themselves
	mine := `SELECT rowid AS rid, created, recipient, read_at, recipient AS other FROM dm_messages
			WHERE sender = {:me} AND sender_deleted = FALSE
		UNION ALL
		SELECT rowid AS rid, created, recipient, read_at, sender AS other FROM dm_messages
			WHERE recipient = {:me} AND recipient_deleted = FALSE`

	var rows []struct {
		Other   string `db:"other"`
		LastRow int64  `db:"last_row"`
		Unread  int    `db:"unread"`
		Total   int    `db:"total"`
	}
	// SQLite takes the bare column rid from the row that holds max(created);
	// the window counts the conversations before LIMIT, in the same pass
	err = e.App.DB().NewQuery(`SELECT other, rid AS last_row, MAX(created) AS last_at,
			SUM(CASE WHEN recipient = {:me} AND read_at = '' THEN 1 ELSE 0 END) AS unread,
			COUNT(*) OVER () AS total
		FROM (` + mine + `) GROUP BY other ORDER BY last_at DESC, other LIMIT {:limit} OFFSET {:offset}`).
		Bind(dbx.Params{"me": me, "limit": perPage, "offset": (page - 1) * perPage}).
		All(&rows)
	if err != nil {
		return fmt.Errorf("dm conversations: %w", err)
	}
	var total int
	if len(rows) > 0 {
		total = rows[0].Total
	} else if page > 1 { // past the end: count on its own
		if err := e.App.DB().NewQuery(`SELECT COUNT(DISTINCT other) FROM (` + mine + `)`).
			Bind(dbx.Params{"me": me}).Row(&total); err != nil {
			return fmt.Errorf("dm conversations count: %w", err)
		}
	}
	unreadTotal, err := dmUnread(e.App, me)
	if err != nil {
		return err
	}

	lastRows := make([]any, 0, len(rows))
	userIDs := make([]string, 0, len(rows))
	for _, r := range rows {
		lastRows = append(lastRows, r.LastRow)
		if r.Other != "" {
			userIDs = append(userIDs, r.Other)
		}
	}
	var msgs []*core.Record
	if len(lastRows) > 0 {
		err = e.App.RecordQuery("dm_messages").
			Where(dbx.In("dm_messages.rowid", lastRows...)).All(&msgs)
		if err != nil {
			return fmt.Errorf("dm conversations: %w", err)
		}
	}
	users, err := e.App.FindRecordsByIds("users", userIDs)
	if err != nil {
		return fmt.Errorf("dm conversations: %w", err)
	}
	if err := apis.EnrichRecords(e, msgs); err != nil {
		return err
	}
	if err := apis.EnrichRecords(e, users); err != nil {
		return err
	}
	userByID := make(map[string]*core.Record, len(users))
	for _, u := range users {
		userByID[u.Id] = u
	}
	lastByOther := make(map[string]*core.Record, len(msgs))
	for _, m := range msgs {
		other := m.GetString("sender")
		if other == me {
			other = m.GetString("recipient")
		}
		lastByOther[other] = m
	}

	items := make([]dmConversation, 0, len(rows))
	for _, r := range rows {
		items = append(items, dmConversation{
			UserID:      r.Other,
			User:        userByID[r.Other],
			LastMessage: lastByOther[r.Other],
			Unread:      r.Unread,
		})
	}
	return e.JSON(http.StatusOK, map[string]any{
		"page":        page,
		"perPage":     perPage,
		"totalItems":  total,
		"unreadTotal": unreadTotal,
		"items":       items,
	})
}

// countDMUnread answers GET /api/salon/dm/unread: {"unread": n}, for a badge.
func countDMUnread(e *core.RequestEvent) error {
	if !salon.IsMember(e.Auth) {
		return salon.Deny("not_member", "Only members have direct messages.")
	}
	n, err := dmUnread(e.App, e.Auth.Id)
	if err != nil {
		return err
	}
	return e.JSON(http.StatusOK, map[string]int{"unread": n})
}

func dmUnread(app core.App, userID string) (int, error) {
	var n int
	err := app.DB().Select("COUNT(*)").From("dm_messages").
		Where(dbx.HashExp{"recipient": userID, "recipient_deleted": false, "read_at": ""}).
		Row(&n)
	if err != nil {
		return 0, fmt.Errorf("dm unread: %w", err)
	}
	return n, nil
}

// markDMConversationRead answers POST /api/salon/dm/conversations/{userId}/read:
// every unread message from userId to the caller gets read_at = now, saved
// as records so the sender's subscription sees the read receipts.
func markDMConversationRead(e *core.RequestEvent) error {
	if !salon.IsMember(e.Auth) {
		return salon.Deny("not_member", "Only members have direct messages.")
	}
	other := e.Request.PathValue("userId")
	var marked int
	err := e.App.RunInTransaction(func(tx core.App) error {
		unread, err := tx.FindAllRecords("dm_messages", dbx.HashExp{
			"sender": other, "recipient": e.Auth.Id, "recipient_deleted": false, "read_at": "",
		})
		if err != nil {
			return err
		}
		now := types.NowDateTime()
		for _, msg := range unread {
			msg.Set("read_at", now)
			if err := tx.Save(msg); err != nil {
				return fmt.Errorf("mark %s read: %w", msg.Id, err)
			}
		}
		marked = len(unread)
		return nil
	})
	if err != nil {
		return fmt.Errorf("mark conversation read: %w", err)
	}
	return e.JSON(http.StatusOK, map[string]int{"marked": marked})
}
