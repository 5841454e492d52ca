package dm_test

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"

	"salonbase/testutil"
)

const dmURL = "/api/collections/dm_messages/records"

type dmMsg struct {
	ID               string   `json:"id"`
	Sender           string   `json:"sender"`
	Recipient        string   `json:"recipient"`
	Subject          string   `json:"subject"`
	Body             string   `json:"body"`
	ReadAt           string   `json:"read_at"`
	ReplyTo          string   `json:"reply_to"`
	Attachments      []string `json:"attachments"`
	SenderDeleted    bool     `json:"sender_deleted"`
	RecipientDeleted bool     `json:"recipient_deleted"`
}

// sendDM posts a message as token and returns the status and body.
func sendDM(t *testing.T, srv *testutil.Server, token, to string, extra map[string]any) (int, []byte) {
	t.Helper()
	body := map[string]any{"recipient": to, "subject": "Hello", "body": "Hi there"}
	for k, v := range extra {
		body[k] = v
	}
	return srv.Do(t, http.MethodPost, dmURL, token, body)
}

func mustSendDM(t *testing.T, srv *testutil.Server, token, to string, extra map[string]any) dmMsg {
	t.Helper()
	status, body := sendDM(t, srv, token, to, extra)
	if status != http.StatusOK {
		t.Fatalf("send to %s: %d %s", to, status, body)
	}
	return testutil.Decode[dmMsg](t, body)
}

func dmAuditRows(t *testing.T, app core.App, via string) []*core.Record {
	t.Helper()
	rows, err := app.FindAllRecords("dm_audit", dbx.HashExp{"via": via})
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// The seed's examples: "Gold and above may DM members", "Platinum and above
// may contact tutors", everyone reaches the operator, admin_only and off.
func TestDMPolicySeedExamples(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	testutil.UpdateSettings(t, app, map[string]any{
		"dm_member_min_rank": testutil.RankID(t, app, "Gold"),
		"dm_tutor_min_rank":  testutil.RankID(t, app, "Platinum"),
	})
	silver := testutil.CreateUser(t, app, testutil.User{Rank: "Silver"})
	gold := testutil.CreateUser(t, app, testutil.User{Rank: "Gold"})
	platinum := testutil.CreateUser(t, app, testutil.User{Rank: "Platinum"})
	member := testutil.CreateUser(t, app, testutil.User{Rank: "Free"})
	tutor := testutil.CreateUser(t, app, testutil.User{Role: "tutor"})
	admin := testutil.CreateUser(t, app, testutil.User{Role: "admin", Rank: "Free"})

	type c struct {
		from, to *core.Record
		want     int
		reason   string
	}
	check := func(name string, cases []c) {
		t.Helper()
		for _, tc := range cases {
			before, _ := app.CountRecords("dm_messages")
			status, body := sendDM(t, srv, testutil.Token(t, tc.from), tc.to.Id, nil)
			if status != tc.want || (tc.reason != "" && !strings.Contains(string(body), tc.reason)) {
				t.Errorf("%s: %s → %s: want %d %q, got %d %s", name, tc.from.GetString("name"), tc.to.GetString("name"), tc.want, tc.reason, status, body)
			}
			after, _ := app.CountRecords("dm_messages")
			if status != http.StatusOK && after != before {
				t.Errorf("%s: a refused message was stored", name)
			}
		}
	}

	check("open", []c{
		{silver, member, 403, `"code":"dm_rank_too_low","message":"Messaging members needs the Gold rank or above (yours: Silver)`},
		{gold, member, 200, ""},
		{gold, tutor, 403, "Contacting tutors needs the Platinum rank or above (yours: Gold)"},
		{platinum, tutor, 200, ""},
		{silver, admin, 200, ""},
		{member, admin, 200, ""},
		{tutor, member, 200, ""},
		{admin, silver, 200, ""},
		{gold, gold, 403, "yourself"},
	})

	testutil.UpdateSettings(t, app, map[string]any{"dm_mode": "admin_only"})
	check("admin_only", []c{
		{platinum, gold, 403, "limited to the operator"},
		{platinum, tutor, 403, "limited to the operator"},
		{gold, admin, 200, ""},
		{admin, gold, 200, ""},
	})

	testutil.UpdateSettings(t, app, map[string]any{"dm_mode": "off"})
	check("off", []c{
		{platinum, gold, 403, "turned off"},
		{gold, admin, 403, `"code":"dm_off","message":"Direct messages are turned off.`},
		{admin, gold, 200, ""},
	})
}

func TestDMReplyAllowedWhereStartingIsNot(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	testutil.UpdateSettings(t, app, map[string]any{
		"dm_member_min_rank": testutil.RankID(t, app, "Gold"),
		"dm_tutor_min_rank":  testutil.RankID(t, app, "Platinum"),
	})
	silver := testutil.CreateUser(t, app, testutil.User{Rank: "Silver"})
	tutor := testutil.CreateUser(t, app, testutil.User{Role: "tutor"})
	admin := testutil.CreateUser(t, app, testutil.User{Role: "admin"})
	other := testutil.CreateUser(t, app, testutil.User{Rank: "Platinum"})
	silverToken := testutil.Token(t, silver)

	if status, body := sendDM(t, srv, silverToken, tutor.Id, nil); status != 403 {
		t.Fatalf("silver starts a conversation with a tutor: want 403, got %d %s", status, body)
	}
	fromTutor := mustSendDM(t, srv, testutil.Token(t, tutor), silver.Id, map[string]any{"body": "How is your homework?"})
	reply := mustSendDM(t, srv, silverToken, tutor.Id, map[string]any{"reply_to": fromTutor.ID, "body": "Done!"})
	if reply.ReplyTo != fromTutor.ID {
		t.Fatalf("the reply keeps the thread: %+v", reply)
	}

	// reply_to must belong to the two parties
	fromOther := mustSendDM(t, srv, testutil.Token(t, other), tutor.Id, nil)
	status, body := sendDM(t, srv, silverToken, tutor.Id, map[string]any{"reply_to": fromOther.ID})
	if status != 400 || !strings.Contains(string(body), "must be one between you and the recipient") {
		t.Fatalf("reply to someone else's message: want 400, got %d %s", status, body)
	}
	// a follow-up to one's own message is not a reply that opens the door
	own := mustSendDM(t, srv, testutil.Token(t, silver), admin.Id, nil)
	if status, body := sendDM(t, srv, silverToken, tutor.Id, map[string]any{"reply_to": own.ID}); status != 400 {
		t.Fatalf("reply_to from another conversation: want 400, got %d %s", status, body)
	}

	// with DMs off a member may still answer the operator
	testutil.UpdateSettings(t, app, map[string]any{"dm_mode": "off"})
	fromAdmin := mustSendDM(t, srv, testutil.Token(t, admin), silver.Id, nil)
	if status, body := sendDM(t, srv, silverToken, admin.Id, nil); status != 403 {
		t.Fatalf("off: member starts to the admin: want 403, got %d %s", status, body)
	}
	mustSendDM(t, srv, silverToken, admin.Id, map[string]any{"reply_to": fromAdmin.ID})
	if status, body := sendDM(t, srv, silverToken, tutor.Id, map[string]any{"reply_to": fromTutor.ID}); status != 403 {
		t.Fatalf("off: replies to a tutor are off too: want 403, got %d %s", status, body)
	}
}

func TestDMSettingsRankAndBlocksApplyOnTheNextRequest(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	testutil.UpdateSettings(t, app, map[string]any{"dm_member_min_rank": testutil.RankID(t, app, "Gold")})
	silver := testutil.CreateUser(t, app, testutil.User{Rank: "Silver"})
	friend := testutil.CreateUser(t, app, testutil.User{Rank: "Silver"})
	admin := testutil.CreateUser(t, app, testutil.User{Role: "admin"})
	token := testutil.Token(t, silver) // the same token throughout: no re-login

	if status, _ := sendDM(t, srv, token, friend.Id, nil); status != 403 {
		t.Fatalf("silver before promotion: want 403, got %d", status)
	}
	silver.Set("rank", testutil.RankID(t, app, "Gold")) // as the dashboard would
	if err := app.Save(silver); err != nil {
		t.Fatal(err)
	}
	mustSendDM(t, srv, token, friend.Id, nil)

	silver.Set("rank", testutil.RankID(t, app, "Silver"))
	if err := app.Save(silver); err != nil {
		t.Fatal(err)
	}
	if status, _ := sendDM(t, srv, token, friend.Id, nil); status != 403 {
		t.Fatalf("after demotion: want 403, got %d", status)
	}
	testutil.UpdateSettings(t, app, map[string]any{"dm_member_min_rank": ""})
	mustSendDM(t, srv, token, friend.Id, nil)

	// the friend blocks silver: refused with the reason; admins ignore blocks
	friendToken := testutil.Token(t, friend)
	if status, body := srv.Do(t, http.MethodPost, "/api/collections/blocks/records", friendToken, map[string]any{"blocked": silver.Id}); status != 200 {
		t.Fatalf("block: %d %s", status, body)
	}
	status, body := sendDM(t, srv, token, friend.Id, nil)
	if status != 403 || !strings.Contains(string(body), "does not accept messages from you") {
		t.Fatalf("blocked sender: want 403, got %d %s", status, body)
	}
	mustSendDM(t, srv, friendToken, silver.Id, nil) // the blocker can still write
	if status, body := srv.Do(t, http.MethodPost, "/api/collections/blocks/records", friendToken, map[string]any{"blocked": admin.Id}); status != 200 {
		t.Fatalf("block admin: %d %s", status, body)
	}
	mustSendDM(t, srv, testutil.Token(t, admin), friend.Id, nil)

	// suspended recipient, anonymous sender, missing recipient
	friend.Set("suspended", true)
	if err := app.Save(friend); err != nil {
		t.Fatal(err)
	}
	if status, body := sendDM(t, srv, testutil.Token(t, admin), friend.Id, nil); status != 403 || !strings.Contains(string(body), "suspended") {
		t.Fatalf("to a suspended member: want 403, got %d %s", status, body)
	}
	if status, body := sendDM(t, srv, "", admin.Id, nil); status != 401 || !strings.Contains(string(body), "Log in") {
		t.Fatalf("anonymous: want 401, got %d %s", status, body)
	}
	if status, body := sendDM(t, srv, token, "nosuchuser1234", nil); status != 400 || !strings.Contains(string(body), "recipient does not exist") {
		t.Fatalf("unknown recipient: want 400, got %d %s", status, body)
	}
	if status, body := sendDM(t, srv, token, admin.Id, map[string]any{"body": "  "}); status != 400 || !strings.Contains(string(body), "Write a message") {
		t.Fatalf("empty message: want 400, got %d %s", status, body)
	}
}

func TestDMForgeryRefused(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	sender := testutil.CreateUser(t, app, testutil.User{})
	recipient := testutil.CreateUser(t, app, testutil.User{})
	third := testutil.CreateUser(t, app, testutil.User{})
	st, rt := testutil.Token(t, sender), testutil.Token(t, recipient)

	for name, c := range map[string]struct {
		extra  map[string]any
		want   int
		reason string
	}{
		"sender as someone else":     {map[string]any{"sender": third.Id}, 403, "only send messages as yourself"},
		"read_at":                    {map[string]any{"read_at": "2026-01-01 10:00:00.000Z"}, 400, "The recipient sets read_at"},
		"recipient deletion flag":    {map[string]any{"recipient_deleted": true}, 400, "cannot be marked deleted"},
		"own deletion flag at birth": {map[string]any{"sender_deleted": true}, 400, "cannot be marked deleted"},
	} {
		status, body := sendDM(t, srv, st, recipient.Id, c.extra)
		if status != c.want || !strings.Contains(string(body), c.reason) {
			t.Errorf("create with %s: want %d %q, got %d %s", name, c.want, c.reason, status, body)
		}
	}
	if n, _ := app.CountRecords("dm_messages"); n != 0 {
		t.Fatalf("forged messages were stored: %d", n)
	}

	msg := mustSendDM(t, srv, st, recipient.Id, map[string]any{"sender": sender.Id, "sender_deleted": false})
	url := dmURL + "/" + msg.ID
	for name, c := range map[string]struct {
		token string
		body  map[string]any
		want  int
	}{
		"sender sets read_at":           {st, map[string]any{"read_at": "2026-01-01 10:00:00.000Z"}, 403},
		"sender sets recipient_deleted": {st, map[string]any{"recipient_deleted": true}, 403},
		"sender edits the body":         {st, map[string]any{"body": "changed"}, 403},
		"sender redirects":              {st, map[string]any{"recipient": third.Id}, 403},
		"recipient edits the body":      {rt, map[string]any{"body": "changed"}, 403},
		"recipient sets sender_deleted": {rt, map[string]any{"sender_deleted": true}, 403},
		"recipient changes the sender":  {rt, map[string]any{"sender": third.Id}, 403},
		"third member marks read":       {testutil.Token(t, third), map[string]any{"read_at": "2026-01-01 10:00:00.000Z"}, 404},
		"anonymous":                     {"", map[string]any{"read_at": "2026-01-01 10:00:00.000Z"}, 404},
	} {
		status, body := srv.Do(t, http.MethodPatch, url, c.token, c.body)
		if status != c.want {
			t.Errorf("%s: want %d, got %d %s", name, c.want, status, body)
		}
	}
	stored, _ := app.FindRecordById("dm_messages", msg.ID)
	if stored.GetString("body") != "Hi there" || stored.GetString("read_at") != "" || stored.GetBool("sender_deleted") ||
		stored.GetBool("recipient_deleted") || stored.GetString("recipient") != recipient.Id {
		t.Fatalf("a refused update changed the message: %v", stored.FieldsData())
	}

	// the operator writes in the dashboard as a superuser: they name the sender
	root := testutil.SuperuserToken(t, app)
	if status, body := sendDM(t, srv, root, recipient.Id, nil); status != 400 || !strings.Contains(string(body), "sender") {
		t.Fatalf("superuser without a sender: want 400, got %d %s", status, body)
	}
	if status, body := sendDM(t, srv, root, recipient.Id, map[string]any{"sender": third.Id}); status != 200 {
		t.Fatalf("superuser sends on behalf of a member: %d %s", status, body)
	}

	// what each side may change; read_at is the server's time, not the client's
	status, body := srv.Do(t, http.MethodPatch, url, rt, map[string]any{"read_at": "2001-01-01 10:00:00.000Z"})
	if status != 200 {
		t.Fatalf("recipient marks read: %d %s", status, body)
	}
	readAt := testutil.Decode[dmMsg](t, body).ReadAt
	if !strings.HasPrefix(readAt, time.Now().UTC().Format("2006-01-02")) {
		t.Fatalf("read_at must be stamped now, got %q", readAt)
	}
	status, body = srv.Do(t, http.MethodPatch, url, rt, map[string]any{"read_at": "2001-01-01 10:00:00.000Z"})
	if status != 200 || testutil.Decode[dmMsg](t, body).ReadAt != readAt {
		t.Fatalf("a second read keeps the first read_at %q: %d %s", readAt, status, body)
	}
	if status, body := srv.Do(t, http.MethodPatch, url, rt, map[string]any{"read_at": ""}); status != 200 || testutil.Decode[dmMsg](t, body).ReadAt != "" {
		t.Fatalf("recipient marks unread: %d %s", status, body)
	}
	// a client sending back the whole record unchanged is fine
	_, body = srv.Do(t, http.MethodGet, url, st, nil)
	whole := testutil.Decode[map[string]any](t, body) // the record as the sender's client has it
	whole["sender_deleted"] = true
	delete(whole, "recipient_deleted") // hidden from the sender
	if status, body := srv.Do(t, http.MethodPatch, url, st, whole); status != 200 {
		t.Fatalf("sender hides own copy: %d %s", status, body)
	}
}

// The rules alone refuse forgeries too (second line behind the hooks).
func TestDMRulesAloneRefuseForgery(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	sender := testutil.CreateUser(t, app, testutil.User{})
	recipient := testutil.CreateUser(t, app, testutil.User{})
	c, _ := app.FindCollectionByNameOrId("dm_messages")
	msg := testutil.NewRecord(c, map[string]any{"sender": sender.Id, "recipient": recipient.Id, "body": "hi"})
	if err := app.Save(msg); err != nil {
		t.Fatal(err)
	}
	can := func(auth *core.Record, rule *string, body map[string]any) bool {
		ok, _ := app.CanAccessRecord(msg, &core.RequestInfo{Auth: auth, Body: body, Method: "PATCH"}, rule)
		return ok
	}
	for _, tc := range []struct {
		name string
		auth *core.Record
		rule *string
		body map[string]any
		want bool
	}{
		{"create as someone else", sender, c.CreateRule, map[string]any{"sender": recipient.Id}, false},
		{"create with read_at", sender, c.CreateRule, map[string]any{"read_at": "2026-01-01 10:00:00.000Z"}, false},
		{"create with recipient_deleted", sender, c.CreateRule, map[string]any{"recipient_deleted": true}, false},
		{"plain create", sender, c.CreateRule, map[string]any{"recipient": recipient.Id, "body": "x"}, true},
		{"sender sets read_at", sender, c.UpdateRule, map[string]any{"read_at": "2026-01-01 10:00:00.000Z"}, false},
		{"sender sets recipient_deleted", sender, c.UpdateRule, map[string]any{"recipient_deleted": true}, false},
		{"sender edits", sender, c.UpdateRule, map[string]any{"body": "new"}, false},
		{"sender hides own copy", sender, c.UpdateRule, map[string]any{"sender_deleted": true}, true},
		{"recipient sets sender_deleted", recipient, c.UpdateRule, map[string]any{"sender_deleted": true}, false},
		{"recipient edits", recipient, c.UpdateRule, map[string]any{"subject": "new"}, false},
		{"recipient marks read", recipient, c.UpdateRule, map[string]any{"read_at": "2026-01-01 10:00:00.000Z"}, true},
		{"recipient hides own copy", recipient, c.UpdateRule, map[string]any{"recipient_deleted": true}, true},
	} {
		if got := can(tc.auth, tc.rule, tc.body); got != tc.want {
			t.Errorf("%s: rule says %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestDMVisibilityAndModerationAudit(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	alice := testutil.CreateUser(t, app, testutil.User{Name: "Alice"})
	bob := testutil.CreateUser(t, app, testutil.User{Name: "Bob"})
	eve := testutil.CreateUser(t, app, testutil.User{Name: "Eve"})
	admin := testutil.CreateUser(t, app, testutil.User{Name: "Mod", Role: "admin"})
	at, bt, et, adminToken := testutil.Token(t, alice), testutil.Token(t, bob), testutil.Token(t, eve), testutil.Token(t, admin)
	root := testutil.SuperuserToken(t, app)

	m1 := mustSendDM(t, srv, at, bob.Id, nil)
	mustSendDM(t, srv, bt, alice.Id, map[string]any{"reply_to": m1.ID})
	toAdmin := mustSendDM(t, srv, at, admin.Id, nil)

	count := func(token, filter string) int {
		t.Helper()
		status, body := srv.Do(t, http.MethodGet, dmURL+"?filter="+testutil.Urlq(filter), token, nil)
		if status != 200 {
			t.Fatalf("list: %d %s", status, body)
		}
		return testutil.Decode[testutil.List[dmMsg]](t, body).TotalItems
	}
	if n := count(at, ""); n != 3 {
		t.Fatalf("alice sees her 3 messages, got %d", n)
	}
	if n := count(bt, "recipient = '"+bob.Id+"'"); n != 1 {
		t.Fatalf("bob's inbox: %d", n)
	}
	if n := count(et, ""); n != 0 {
		t.Fatalf("eve must see nothing, got %d", n)
	}
	if status, _ := srv.Do(t, http.MethodGet, dmURL+"/"+m1.ID, et, nil); status != 404 {
		t.Fatalf("eve views a message: want 404, got %d", status)
	}
	if status, _ := srv.Do(t, http.MethodGet, dmURL+"/"+m1.ID, "", nil); status != 404 {
		t.Fatalf("anonymous views a message: want 404, got %d", status)
	}
	// a chat-room guest holds a token but is no member
	guests, _ := app.FindCollectionByNameOrId("guests")
	guest := core.NewRecord(guests)
	guest.Set("name", "Visitor")
	guest.SetEmail("visitor@example.com")
	guest.SetPassword(testutil.DefaultPassword)
	if err := app.Save(guest); err != nil {
		t.Fatal(err)
	}
	gt := testutil.Token(t, guest)
	if n := count(gt, ""); n != 0 {
		t.Fatalf("a guest lists DMs: %d", n)
	}
	if status, body := sendDM(t, srv, gt, alice.Id, nil); status != 403 || !strings.Contains(string(body), "Only members") {
		t.Fatalf("a guest sends a DM: want 403, got %d %s", status, body)
	}
	// the recipient never sees the sender's e-mail, even expanded
	_, body := srv.Do(t, http.MethodGet, dmURL+"/"+m1.ID+"?expand=sender", bt, nil)
	if strings.Contains(string(body), alice.Email()) || !strings.Contains(string(body), "Alice") {
		t.Fatalf("expanded sender must show the name, not the e-mail: %s", body)
	}
	if n := len(dmAuditRows(t, app, "api")); n != 0 {
		t.Fatalf("parties' reads are not audited: %d rows", n)
	}

	// the admin reads their own conversation: not audited
	if status, _ := srv.Do(t, http.MethodGet, dmURL+"/"+toAdmin.ID, adminToken, nil); status != 200 {
		t.Fatalf("admin views own message: %d", status)
	}
	if n := len(dmAuditRows(t, app, "api")); n != 0 {
		t.Fatalf("an admin's own conversation is not audited: %d rows", n)
	}

	// the admin lists everything: one audit row for the alice↔bob conversation
	if n := count(adminToken, ""); n != 3 {
		t.Fatalf("admin sees all 3 messages, got %d", n)
	}
	rows := dmAuditRows(t, app, "api")
	if len(rows) != 1 {
		t.Fatalf("want 1 audit row (one conversation read by a non-party), got %d", len(rows))
	}
	row := rows[0]
	parties := []string{row.GetString("party_a"), row.GetString("party_b")}
	if row.GetString("reader_id") != admin.Id || row.GetString("reader_name") != "Mod" ||
		!(parties[0] == min(alice.Id, bob.Id) && parties[1] == max(alice.Id, bob.Id)) ||
		!strings.Contains(row.GetString("party_names"), "Alice") {
		t.Fatalf("audit row: %v", row.FieldsData())
	}

	// a superuser in the dashboard goes through the same API and is audited
	if status, _ := srv.Do(t, http.MethodGet, dmURL+"/"+m1.ID, root, nil); status != 200 {
		t.Fatalf("superuser view: %d", status)
	}
	rows = dmAuditRows(t, app, "api")
	if len(rows) != 2 || rows[1].GetString("reader_collection") != core.CollectionNameSuperusers || rows[1].GetString("message") != m1.ID {
		t.Fatalf("superuser read must be audited: %d rows", len(rows))
	}

	// no way around the log: expanding the back-relation from users
	status, body := srv.Do(t, http.MethodGet, testutil.UsersURL+"/"+alice.Id+"?expand=dm_messages_via_sender", adminToken, nil)
	if status != 200 || !strings.Contains(string(body), m1.ID) {
		t.Fatalf("admin expand: %d %s", status, body)
	}
	if n := len(dmAuditRows(t, app, "api")); n != 3 {
		t.Fatalf("a read through expand must be audited: %d rows", n)
	}
	// nor can eve probe message bodies through a back-relation filter
	probe := testutil.UsersURL + "?filter=" + testutil.Urlq("dm_messages_via_sender.body ~ 'Hi there'")
	if status, body := srv.Do(t, http.MethodGet, probe, et, nil); status != 200 || !strings.Contains(string(body), `"totalItems":0`) {
		t.Fatalf("eve probes DM bodies: %d %s", status, body)
	}
	if _, body := srv.Do(t, http.MethodGet, probe, bt, nil); !strings.Contains(string(body), `"totalItems":2`) {
		t.Fatalf("the filter itself works for a party (both sent \"Hi there\"): %s", body)
	}
	// eve's expand shows nothing
	if _, body := srv.Do(t, http.MethodGet, testutil.UsersURL+"/"+alice.Id+"?expand=dm_messages_via_sender", et, nil); strings.Contains(string(body), m1.ID) {
		t.Fatalf("eve reads through expand: %s", body)
	}

	// the log: admins read it; members do not; nobody rewrites it
	if _, body := srv.Do(t, http.MethodGet, "/api/collections/dm_audit/records", at, nil); !strings.Contains(string(body), `"totalItems":0`) {
		t.Fatalf("members must not see the audit log: %s", body)
	}
	if _, body := srv.Do(t, http.MethodGet, "/api/collections/dm_audit/records", adminToken, nil); !strings.Contains(string(body), `"totalItems":3`) {
		t.Fatalf("admins read the audit log: %s", body)
	}
	for _, req := range []struct{ method, path string }{
		{http.MethodDelete, "/api/collections/dm_audit/records/" + row.Id},
		{http.MethodPatch, "/api/collections/dm_audit/records/" + row.Id},
		{http.MethodPost, "/api/collections/dm_audit/records"},
	} {
		status, body := srv.Do(t, req.method, req.path, root, map[string]any{
			"reader_collection": "users", "reader_id": "x", "via": "api", "reader_name": "forged",
		})
		if status != 403 {
			t.Errorf("superuser %s on the audit log: want 403, got %d %s", req.method, status, body)
		}
	}
	if n, _ := app.CountRecords("dm_audit"); n != 3 {
		t.Fatalf("the audit log changed: %d rows", n)
	}
}

func TestDMDeleteForMe(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	alice := testutil.CreateUser(t, app, testutil.User{})
	bob := testutil.CreateUser(t, app, testutil.User{})
	eve := testutil.CreateUser(t, app, testutil.User{})
	admin := testutil.CreateUser(t, app, testutil.User{Role: "admin"})
	at, bt := testutil.Token(t, alice), testutil.Token(t, bob)

	msg := mustSendDM(t, srv, at, bob.Id, nil)
	url := dmURL + "/" + msg.ID
	if status, _ := srv.Do(t, http.MethodDelete, url, testutil.Token(t, eve), nil); status != 404 {
		t.Fatalf("eve deletes: want 404, got %d", status)
	}
	if status, body := srv.Do(t, http.MethodDelete, url, bt, nil); status != 204 {
		t.Fatalf("bob deletes for himself: %d %s", status, body)
	}
	if status, _ := srv.Do(t, http.MethodGet, url, bt, nil); status != 404 {
		t.Fatalf("bob still sees his deleted copy: %d", status)
	}
	status, body := srv.Do(t, http.MethodGet, url, at, nil)
	if status != 200 {
		t.Fatalf("alice lost her copy: %d", status)
	}
	if strings.Contains(string(body), "recipient_deleted") {
		t.Fatalf("alice must not learn that bob deleted his copy: %s", body)
	}
	if status, _ := srv.Do(t, http.MethodPatch, url, bt, map[string]any{"recipient_deleted": false}); status != 404 {
		t.Fatalf("bob must not reach his deleted copy: %d", status)
	}
	if status, _ := srv.Do(t, http.MethodDelete, url, at, nil); status != 204 {
		t.Fatalf("alice deletes for herself: %d", status)
	}
	// both sides removed it; moderation keeps the record
	stored, err := app.FindRecordById("dm_messages", msg.ID)
	if err != nil || !stored.GetBool("sender_deleted") || !stored.GetBool("recipient_deleted") {
		t.Fatalf("the record must stay with both flags: %v", err)
	}
	if status, _ := srv.Do(t, http.MethodGet, url, testutil.Token(t, admin), nil); status != 200 {
		t.Fatalf("admins keep reading deleted messages: %d", status)
	}
	// an admin who is not a party removes it for everyone
	if status, _ := srv.Do(t, http.MethodDelete, url, testutil.Token(t, admin), nil); status != 204 {
		t.Fatalf("admin delete: %d", status)
	}
	if _, err := app.FindRecordById("dm_messages", msg.ID); err == nil {
		t.Fatal("a moderator's delete must remove the record")
	}
}

func TestDMIdempotentSend(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	alice := testutil.CreateUser(t, app, testutil.User{})
	bob := testutil.CreateUser(t, app, testutil.User{})
	carol := testutil.CreateUser(t, app, testutil.User{})
	at := testutil.Token(t, alice)

	first := mustSendDM(t, srv, at, bob.Id, map[string]any{"client_id": "c-1"})
	again := mustSendDM(t, srv, at, bob.Id, map[string]any{"client_id": "c-1"})
	if again.ID != first.ID {
		t.Fatalf("a retry must return the first message: %s != %s", again.ID, first.ID)
	}
	if status, body := sendDM(t, srv, at, carol.Id, map[string]any{"client_id": "c-1"}); status != 409 {
		t.Fatalf("client_id reused for another recipient: want 409, got %d %s", status, body)
	}
	// client ids are per sender
	mustSendDM(t, srv, testutil.Token(t, carol), bob.Id, map[string]any{"client_id": "c-1"})

	// concurrent retries still make one message
	var wg sync.WaitGroup
	ids := make([]string, 6)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, body := sendDM(t, srv, at, bob.Id, map[string]any{"client_id": "c-2"})
			if status == 200 {
				ids[i] = testutil.Decode[dmMsg](t, body).ID
			} else {
				t.Errorf("concurrent retry: %d %s", status, body)
			}
		}()
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("concurrent retries returned different messages: %v", ids)
		}
	}
	n, _ := app.CountRecords("dm_messages", dbx.HashExp{"sender": alice.Id})
	if n != 2 {
		t.Fatalf("alice's retries must store 2 messages, got %d", n)
	}
	notes, _ := app.CountRecords("notifications", dbx.HashExp{"user": bob.Id, "kind": "dm"})
	if notes != 3 {
		t.Fatalf("bob gets one notification per message (3), got %d", notes)
	}
}

func TestDMConversationsUnreadAndMarkRead(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	me := testutil.CreateUser(t, app, testutil.User{Name: "Me"})
	bob := testutil.CreateUser(t, app, testutil.User{Name: "Bob"})
	carol := testutil.CreateUser(t, app, testutil.User{Name: "Carol"})
	dave := testutil.CreateUser(t, app, testutil.User{Name: "Dave"})
	mt := testutil.Token(t, me)

	mustSendDM(t, srv, mt, dave.Id, map[string]any{"subject": "to dave"})
	mustSendDM(t, srv, testutil.Token(t, carol), me.Id, map[string]any{"subject": "from carol"})
	mustSendDM(t, srv, testutil.Token(t, bob), me.Id, map[string]any{"subject": "bob 1"})
	last := mustSendDM(t, srv, testutil.Token(t, bob), me.Id, map[string]any{"subject": "bob 2"})

	type conv struct {
		UserID      string         `json:"userId"`
		User        map[string]any `json:"user"`
		LastMessage dmMsg          `json:"lastMessage"`
		Unread      int            `json:"unread"`
	}
	type convList struct {
		TotalItems  int    `json:"totalItems"`
		UnreadTotal int    `json:"unreadTotal"`
		Items       []conv `json:"items"`
	}
	get := func(token, query string) convList {
		t.Helper()
		status, body := srv.Do(t, http.MethodGet, "/api/salon/dm/conversations"+query, token, nil)
		if status != 200 {
			t.Fatalf("conversations: %d %s", status, body)
		}
		if strings.Contains(string(body), "@example.com") {
			t.Fatalf("conversation list leaks e-mail addresses: %s", body)
		}
		return testutil.Decode[convList](t, body)
	}

	got := get(mt, "")
	if got.TotalItems != 3 || got.UnreadTotal != 3 || len(got.Items) != 3 {
		t.Fatalf("want 3 conversations with 3 unread, got %+v", got)
	}
	want := []struct {
		user   string
		unread int
	}{{bob.Id, 2}, {carol.Id, 1}, {dave.Id, 0}}
	for i, w := range want {
		if got.Items[i].UserID != w.user || got.Items[i].Unread != w.unread || got.Items[i].User["name"] == nil {
			t.Fatalf("row %d: want %s with %d unread, got %+v", i, w.user, w.unread, got.Items[i])
		}
	}
	if got.Items[0].LastMessage.ID != last.ID {
		t.Fatalf("bob's row shows the newest message: %+v", got.Items[0].LastMessage)
	}
	if page := get(mt, "?page=2&perPage=2"); len(page.Items) != 1 || page.Items[0].UserID != dave.Id || page.TotalItems != 3 {
		t.Fatalf("page 2: %+v", page)
	}
	if page := get(mt, "?page=9&perPage=2"); len(page.Items) != 0 || page.TotalItems != 3 {
		t.Fatalf("past the last page: %+v", page)
	}
	// a page number that would overflow the OFFSET is a 400, not the first page
	for _, q := range []string{"?page=4611686018427387905&perPage=2", "?page=x"} {
		testutil.WantStatus(t, srv, http.MethodGet, "/api/salon/dm/conversations"+q, mt, nil, http.StatusBadRequest, "page parameter")
	}
	// bob sees only his own side
	if b := get(testutil.Token(t, bob), ""); b.TotalItems != 1 || b.UnreadTotal != 0 || b.Items[0].UserID != me.Id {
		t.Fatalf("bob's list: %+v", b)
	}
	if status, _ := srv.Do(t, http.MethodGet, "/api/salon/dm/conversations", "", nil); status != 401 {
		t.Fatalf("anonymous: want 401, got %d", status)
	}

	// marking only touches the caller's inbox: bob marking "me" changes nothing of mine
	status, body := srv.Do(t, http.MethodPost, "/api/salon/dm/conversations/"+me.Id+"/read", testutil.Token(t, bob), nil)
	if status != 200 || !strings.Contains(string(body), `"marked":0`) {
		t.Fatalf("bob marks his side: %d %s", status, body)
	}
	if got := get(mt, ""); got.UnreadTotal != 3 {
		t.Fatalf("bob's mark must not touch my inbox: %+v", got)
	}
	status, body = srv.Do(t, http.MethodPost, "/api/salon/dm/conversations/"+bob.Id+"/read", mt, nil)
	if status != 200 || !strings.Contains(string(body), `"marked":2`) {
		t.Fatalf("mark bob read: %d %s", status, body)
	}
	if _, body := srv.Do(t, http.MethodGet, "/api/salon/dm/unread", mt, nil); !strings.Contains(string(body), `"unread":1`) {
		t.Fatalf("unread after marking bob: %s", body)
	}
	if got := get(mt, ""); got.Items[0].Unread != 0 || got.Items[1].Unread != 1 {
		t.Fatalf("per-conversation unread after marking bob: %+v", got)
	}
	// hide carol's message: her conversation leaves my list, stays in hers
	carolMsg := get(mt, "").Items[1].LastMessage
	if status, _ := srv.Do(t, http.MethodDelete, dmURL+"/"+carolMsg.ID, mt, nil); status != 204 {
		t.Fatalf("delete for me: %d", status)
	}
	if got := get(mt, ""); got.TotalItems != 2 || got.UnreadTotal != 0 {
		t.Fatalf("after hiding carol's message: %+v", got)
	}
	if got := get(testutil.Token(t, carol), ""); got.TotalItems != 1 {
		t.Fatalf("carol keeps her side: %+v", got)
	}
}

func TestDMRealtimeReachesOnlyTheRecipient(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	alice := testutil.CreateUser(t, app, testutil.User{})
	bob := testutil.CreateUser(t, app, testutil.User{})
	eve := testutil.CreateUser(t, app, testutil.User{})
	admin := testutil.CreateUser(t, app, testutil.User{Role: "admin"})

	bobRT := srv.Subscribe(t, testutil.Token(t, bob), "dm_messages")
	eveRT := srv.Subscribe(t, testutil.Token(t, eve), "dm_messages")
	adminRT := srv.Subscribe(t, testutil.Token(t, admin), "dm_messages")

	msg := mustSendDM(t, srv, testutil.Token(t, alice), bob.Id, map[string]any{"body": "live"})

	ev, ok := bobRT.Next(5 * time.Second)
	if !ok {
		t.Fatal("the recipient got no realtime event")
	}
	got := testutil.Decode[struct {
		Action string `json:"action"`
		Record dmMsg  `json:"record"`
	}](t, ev.Data)
	if got.Action != "create" || got.Record.ID != msg.ID || got.Record.Body != "live" {
		t.Fatalf("recipient event: %s", ev.Data)
	}
	if _, ok := adminRT.Next(5 * time.Second); !ok {
		t.Fatal("the moderator's subscription gets the event")
	}
	// the broadcast to all three ran in one pass; eve's would have arrived
	if ev, ok := eveRT.Next(300 * time.Millisecond); ok {
		t.Fatalf("a third member received %s", ev.Data)
	}
	rows := dmAuditRows(t, app, "realtime")
	if len(rows) != 1 || rows[0].GetString("reader_id") != admin.Id || rows[0].GetString("message") != msg.ID {
		t.Fatalf("the moderator's realtime read must be audited: %d rows", len(rows))
	}

	// the read receipt reaches the sender's subscription, not eve's
	aliceRT := srv.Subscribe(t, testutil.Token(t, alice), "dm_messages/"+msg.ID)
	if status, body := srv.Do(t, http.MethodPost, "/api/salon/dm/conversations/"+alice.Id+"/read", testutil.Token(t, bob), nil); status != 200 {
		t.Fatalf("mark read: %d %s", status, body)
	}
	ev, ok = aliceRT.Next(5 * time.Second)
	if !ok || !strings.Contains(string(ev.Data), `"action":"update"`) || strings.Contains(string(ev.Data), `"read_at":""`) {
		t.Fatalf("sender's read receipt: %v %s", ok, ev.Data)
	}
	if ev, ok := eveRT.Next(300 * time.Millisecond); ok {
		t.Fatalf("a third member received the update %s", ev.Data)
	}

	// the recipient's notification
	n, err := app.FindFirstRecordByFilter("notifications", "user = {:u} && kind = 'dm'", dbx.Params{"u": bob.Id})
	if err != nil || n.GetString("source_id") != msg.ID || !strings.Contains(n.GetString("title"), alice.GetString("name")) {
		t.Fatalf("recipient notification: %v", err)
	}
}

// upload posts a multipart message with one attachment of size bytes.
func uploadDM(t *testing.T, srv *testutil.Server, token, to string, size int) (int, []byte) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	_ = w.WriteField("recipient", to)
	_ = w.WriteField("body", "see the attached notes")
	fw, _ := w.CreateFormFile("attachments", "notes.txt")
	_, _ = fw.Write(bytes.Repeat([]byte("salon notes\n"), size/12+1)[:size])
	_ = w.Close()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+dmURL, &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Authorization", token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, body
}

func TestDMAttachmentsAreProtected(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	alice := testutil.CreateUser(t, app, testutil.User{})
	bob := testutil.CreateUser(t, app, testutil.User{})
	eve := testutil.CreateUser(t, app, testutil.User{})
	admin := testutil.CreateUser(t, app, testutil.User{Role: "admin"})
	at := testutil.Token(t, alice)

	testutil.UpdateSettings(t, app, map[string]any{"dm_max_attachment_mb": 1})
	status, body := uploadDM(t, srv, at, bob.Id, 1<<20+10)
	if status != 400 || !strings.Contains(string(body), "larger than 1 MB") {
		t.Fatalf("oversized attachment: want 400, got %d %s", status, body)
	}
	status, body = uploadDM(t, srv, at, bob.Id, 5000)
	if status != 200 {
		t.Fatalf("upload: %d %s", status, body)
	}
	msg := testutil.Decode[dmMsg](t, body)
	if len(msg.Attachments) != 1 {
		t.Fatalf("attachments: %+v", msg)
	}
	fileURL := "/api/files/dm_messages/" + msg.ID + "/" + msg.Attachments[0]

	fileToken := func(token string) string {
		t.Helper()
		status, body := srv.Do(t, http.MethodPost, "/api/files/token", token, nil)
		if status != 200 {
			t.Fatalf("file token: %d %s", status, body)
		}
		return testutil.Decode[map[string]string](t, body)["token"]
	}
	download := func(fileTok string) int {
		t.Helper()
		status, _ := srv.Do(t, http.MethodGet, fileURL+"?token="+fileTok, "", nil)
		return status
	}
	if s := download(""); s != 404 {
		t.Fatalf("download without a token: want 404, got %d", s)
	}
	if s := download(fileToken(testutil.Token(t, eve))); s != 404 {
		t.Fatalf("download by a third member: want 404, got %d", s)
	}
	if n := len(dmAuditRows(t, app, "file")); n != 0 {
		t.Fatalf("refused downloads are not reads: %d audit rows", n)
	}
	bobFile := fileToken(testutil.Token(t, bob))
	status, body = srv.Do(t, http.MethodGet, fileURL+"?token="+bobFile, "", nil)
	if status != 200 || len(body) != 5000 {
		t.Fatalf("recipient download: %d (%d bytes)", status, len(body))
	}
	if n := len(dmAuditRows(t, app, "file")); n != 0 {
		t.Fatalf("a party's download is not audited: %d rows", n)
	}
	if s := download(fileToken(testutil.Token(t, admin))); s != 200 {
		t.Fatalf("moderator download: %d", s)
	}
	if rows := dmAuditRows(t, app, "file"); len(rows) != 1 || rows[0].GetString("reader_id") != admin.Id {
		t.Fatalf("a moderator's download must be audited: %d rows", len(rows))
	}
	// after bob hides the message his token no longer opens the file
	if status, _ := srv.Do(t, http.MethodDelete, dmURL+"/"+msg.ID, testutil.Token(t, bob), nil); status != 204 {
		t.Fatal("bob's delete for me")
	}
	if s := download(bobFile); s != 404 {
		t.Fatalf("download of a hidden message: want 404, got %d", s)
	}
}

func TestDMReportGoesToTheOperator(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	alice := testutil.CreateUser(t, app, testutil.User{})
	bob := testutil.CreateUser(t, app, testutil.User{})
	eve := testutil.CreateUser(t, app, testutil.User{})
	admin := testutil.CreateUser(t, app, testutil.User{Role: "admin"})

	msg := mustSendDM(t, srv, testutil.Token(t, alice), bob.Id, map[string]any{"body": "buy my course"})
	report := map[string]any{"target_collection": "dm_messages", "target_id": msg.ID, "category": "spam", "reason": "unsolicited ad"}
	if status, body := srv.Do(t, http.MethodPost, "/api/collections/reports/records", testutil.Token(t, eve), report); status != 400 {
		t.Fatalf("eve reports a message she cannot see: want 400, got %d %s", status, body)
	}
	if status, body := srv.Do(t, http.MethodPost, "/api/collections/reports/records", testutil.Token(t, bob), report); status != 200 {
		t.Fatalf("bob reports: %d %s", status, body)
	}
	if n, _ := app.CountRecords("notifications", dbx.HashExp{"user": admin.Id, "kind": "report"}); n != 1 {
		t.Fatalf("the operator is notified of the report: %d", n)
	}
	// and bob blocks alice: her next message is refused
	srv.Do(t, http.MethodPost, "/api/collections/blocks/records", testutil.Token(t, bob), map[string]any{"blocked": alice.Id})
	if status, _ := sendDM(t, srv, testutil.Token(t, alice), bob.Id, nil); status != 403 {
		t.Fatalf("after the block: want 403, got %d", status)
	}
}

func TestDMSendsAreRateLimited(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	testutil.EnableRateLimits(t, app)
	srv := testutil.Serve(t, app)
	spammer := testutil.CreateUser(t, app, testutil.User{})
	victim := testutil.CreateUser(t, app, testutil.User{})
	token := testutil.Token(t, spammer)

	limit := 0
	for _, r := range app.Settings().RateLimits.Rules {
		if r.Label == "*:create" {
			limit = r.MaxRequests
		}
	}
	if limit == 0 || limit > 200 {
		t.Fatalf("the *:create rate limit is %d; DMs need one", limit)
	}

	var status int
	sent := 0
	for sent <= limit {
		status, _ = sendDM(t, srv, token, victim.Id, nil)
		if status != http.StatusOK {
			break
		}
		sent++
	}
	if status != http.StatusTooManyRequests || sent != limit {
		t.Fatalf("want %d messages then 429, got %d sent and %d", limit, sent, status)
	}
}

// The same policy through PocketBase's own ApiScenario runner, which also
// checks which hooks fired: a refused message triggers no save at all.
func TestDMSendScenarios(t *testing.T) {
	t.Parallel()
	type setup struct{ from, to testutil.User }
	scenario := func(name string, s setup, status int, content []string, events map[string]int) tests.ApiScenario {
		headers := map[string]string{}
		body := new(bytes.Buffer)
		return tests.ApiScenario{
			Name:    name,
			Method:  http.MethodPost,
			URL:     dmURL,
			Body:    body, // filled in by the factory, which knows the ids
			Headers: headers,
			TestAppFactory: testutil.Factory(func(t testing.TB, app *tests.TestApp) {
				testutil.UpdateSettings(t, app, map[string]any{
					"dm_member_min_rank": testutil.RankID(t, app, "Gold"),
					"dm_tutor_min_rank":  testutil.RankID(t, app, "Platinum"),
				})
				from := testutil.CreateUser(t, app, s.from)
				to := testutil.CreateUser(t, app, s.to)
				headers["Authorization"] = testutil.Token(t, from)
				headers["Content-Type"] = "application/json"
				fmt.Fprintf(body, `{"recipient": %q, "body": "hello"}`, to.Id)
				app.ResetEventCalls()
			}),
			ExpectedStatus:  status,
			ExpectedContent: content,
			ExpectedEvents:  events,
		}
	}
	refused := map[string]int{"*": 0, "OnRecordCreateRequest": 1}
	sent := map[string]int{"OnRecordCreateRequest": 1, "OnRecordCreate": 2, "OnRecordAfterCreateSuccess": 2}
	for _, s := range []tests.ApiScenario{
		scenario("silver to member", setup{testutil.User{Rank: "Silver"}, testutil.User{}}, 403,
			[]string{`"code":"dm_rank_too_low"`, "needs the Gold rank"}, refused),
		scenario("gold to tutor", setup{testutil.User{Rank: "Gold"}, testutil.User{Role: "tutor"}}, 403,
			[]string{"needs the Platinum rank"}, refused),
		scenario("gold to member", setup{testutil.User{Rank: "Gold"}, testutil.User{}}, 200,
			[]string{`"body":"hello"`}, sent),
		scenario("platinum to tutor", setup{testutil.User{Rank: "Platinum"}, testutil.User{Role: "tutor"}}, 200,
			[]string{`"body":"hello"`}, sent),
		scenario("free to admin", setup{testutil.User{Rank: "Free"}, testutil.User{Role: "admin"}}, 200,
			[]string{`"body":"hello"`}, sent),
	} {
		s.Test(t)
	}
}
