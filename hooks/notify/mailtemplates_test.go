package notify_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/dbx"

	"salonbase/hooks/notify"
	"salonbase/hooks/salon"
	"salonbase/testutil"
)

var japaneseRe = regexp.MustCompile(`[\p{Hiragana}\p{Katakana}\p{Han}]`)

// mailText is a received mail's text without the footer (which is the
// server's own, not the template's).
func mailText(m testutil.ReceivedMail) string {
	text, _, _ := strings.Cut(strings.ReplaceAll(m.Text, "\r\n", "\n"), "\n--\n")
	return text
}

// TestJapaneseMemberGetsEveryMailInJapanese: for every kind of e-mail, a
// member whose language is ja gets a Japanese subject and text (the seeded
// templates), a member whose language is en gets English, with the values
// the sending feature filled in.
func TestJapaneseMemberGetsEveryMailInJapanese(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	ms := testutil.StartMailServer(t)
	testutil.UseMailServer(t, app, ms)
	ja := testutil.Member(t, app, testutil.User{Name: "Hana", Email: "ja@example.com"}, "ja")
	en := testutil.Member(t, app, testutil.User{Name: "Alice", Email: "en@example.com"}, "en")
	everyKindByMail := map[string]string{}
	for _, k := range notify.Kinds {
		everyKindByMail[k.Kind] = notify.ChannelEmail
	}
	testutil.UpdateSettings(t, app, map[string]any{"notify_defaults": everyKindByMail})

	for _, k := range notify.Kinds {
		vars := map[string]string{}
		for _, p := range notify.MailPlaceholders(k.Kind) {
			vars[p] = "Zed" // ASCII values: any Japanese comes from the template
		}
		n := notify.Notification{Kind: k.Kind, Title: "Zed", Body: "Zed", URL: "/x/" + k.Kind,
			SourceCollection: "test", SourceID: k.Kind, Vars: vars}
		if k.Kind == "announcement" {
			n.Title = "春の集い" // an announcement's title is the admin's own
		}
		if err := notify.Notify(app, []string{ja.Id, en.Id}, n); err != nil {
			t.Fatal(err)
		}
	}
	deliver(t, app, time.Now())
	got := ms.WaitFor(t, 2*len(notify.Kinds))
	byKind := map[string]map[string]testutil.ReceivedMail{}
	for _, m := range got {
		kind := strings.TrimPrefix(regexp.MustCompile(`/x/\w+`).FindString(m.Text), "/x/")
		if byKind[kind] == nil {
			byKind[kind] = map[string]testutil.ReceivedMail{}
		}
		byKind[kind][m.To[0]] = m
	}
	for _, k := range notify.Kinds {
		jm, em := byKind[k.Kind]["ja@example.com"], byKind[k.Kind]["en@example.com"]
		if jm.Subject == "" || em.Subject == "" {
			t.Fatalf("%s: no mail for both members (%q, %q)", k.Kind, jm.Subject, em.Subject)
		}
		if !japaneseRe.MatchString(jm.Subject) || !japaneseRe.MatchString(mailText(jm)) || !japaneseRe.MatchString(jm.HTML) {
			t.Errorf("%s: the ja member's mail is not in Japanese:\n%s\n%s", k.Kind, jm.Subject, mailText(jm))
		}
		for _, english := range []string{"Hello", "Open in the salon", "New ", "Stop e-mails"} {
			if strings.Contains(jm.Subject+jm.Text, english) {
				t.Errorf("%s: the ja member's mail mixes in English %q:\n%s\n%s", k.Kind, english, jm.Subject, jm.Text)
			}
		}
		if k.Kind != "announcement" && (japaneseRe.MatchString(em.Subject) || japaneseRe.MatchString(em.Text)) {
			t.Errorf("%s: the en member's mail has Japanese:\n%s\n%s", k.Kind, em.Subject, em.Text)
		}
		if !strings.Contains(jm.Subject+mailText(jm), "Zed") && k.Kind != "announcement" {
			t.Errorf("%s: the sender's values are missing:\n%s\n%s", k.Kind, jm.Subject, mailText(jm))
		}
	}
}

// TestDirectMessageMailAndNoticeInTheRecipientsLanguage: a DM sent through
// the API reaches a Japanese member with a Japanese notice and e-mail
// naming the sender (the DM feature fills in {SENDER}).
func TestDirectMessageMailAndNoticeInTheRecipientsLanguage(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	ms := testutil.StartMailServer(t)
	testutil.UseMailServer(t, app, ms)
	srv := testutil.Serve(t, app)
	bob := testutil.Member(t, app, testutil.User{Name: "Bob", Role: salon.RoleAdmin}, "en")
	hana := testutil.Member(t, app, testutil.User{Name: "Hana", Email: "hana@example.com"}, "ja")

	testutil.MustCreate(t, srv, "/api/collections/dm_messages/records", testutil.Token(t, bob),
		map[string]any{"recipient": hana.Id, "subject": "Friday", "body": "Are you coming?"})
	n, err := app.FindFirstRecordByFilter("notifications", "user = {:u} && kind = 'dm'", dbx.Params{"u": hana.Id})
	if err != nil {
		t.Fatal(err)
	}
	if got := n.GetString("title"); got != "Bobさんから新しいメッセージ" {
		t.Fatalf("the in-app notice's title is %q", got)
	}
	deliver(t, app, time.Now())
	m := ms.WaitFor(t, 1)[0]
	if m.Subject != "[Salonbase] Bobさんから新しいメッセージ" {
		t.Fatalf("subject %q", m.Subject)
	}
	for _, want := range []string{"Hanaさん", "Bobさんから新しいメッセージ", "Friday", "サロンで開く: https://salon.example.com/dm/" + bob.Id} {
		if !strings.Contains(m.Text, want) {
			t.Fatalf("text lacks %q:\n%s", want, m.Text)
		}
	}
}

// templateRow is the mail_templates row of kind in lang, as the API shows it.
func templateRow(t *testing.T, srv *testutil.Server, token, kind, lang string) map[string]any {
	t.Helper()
	out := testutil.WantStatus(t, srv, http.MethodGet, "/api/collections/mail_templates/records?filter="+
		testutil.Urlq("kind = '"+kind+"' && lang = '"+lang+"'"), token, nil, http.StatusOK, "")
	list := testutil.Decode[testutil.List[map[string]any]](t, out)
	if len(list.Items) != 1 {
		t.Fatalf("%d rows for %s/%s", len(list.Items), kind, lang)
	}
	return list.Items[0]
}

// TestEditedMailTemplateIsWhatIsSent: an admin's wording (dashboard or API)
// is what members get; emptied fields fall back to the built-in wording.
func TestEditedMailTemplateIsWhatIsSent(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	ms := testutil.StartMailServer(t)
	testutil.UseMailServer(t, app, ms)
	srv := testutil.Serve(t, app)
	admin := testutil.Member(t, app, testutil.User{Name: "Bob", Role: salon.RoleAdmin}, "en")
	adminToken := testutil.Token(t, admin)
	hana := testutil.Member(t, app, testutil.User{Name: "Hana", Email: "hana@example.com"}, "ja")

	row := templateRow(t, srv, adminToken, "dm", "ja")
	if ph, _ := row["placeholders"].(string); !strings.Contains(ph, "{SENDER}") {
		t.Fatalf("the row does not list its placeholders: %q", ph)
	}
	path := "/api/collections/mail_templates/records/" + row["id"].(string)
	testutil.WantStatus(t, srv, http.MethodPatch, path, adminToken, map[string]any{
		"subject": "{SENDER}さんからお便り（{SALON}）",
		"body":    "{NAME}様\n\n{SENDER}さんより:\n{BODY}\n\n読む → {LINK}",
	}, http.StatusOK, "")

	sendDM := func(body string) testutil.ReceivedMail {
		t.Helper()
		before := len(ms.Messages())
		testutil.MustCreate(t, srv, "/api/collections/dm_messages/records", adminToken,
			map[string]any{"recipient": hana.Id, "subject": "Friday", "body": body})
		deliver(t, app, time.Now())
		return ms.WaitFor(t, before+1)[before]
	}
	m := sendDM("Are you coming?")
	if m.Subject != "Bobさんからお便り（Salonbase）" {
		t.Fatalf("subject %q, want the edited one", m.Subject)
	}
	wantText := "Hana様\n\nBobさんより:\nFriday\n\n読む → https://salon.example.com/dm/" + admin.Id
	if got := mailText(m); !strings.HasPrefix(got, wantText) {
		t.Fatalf("text:\n%s\nwant:\n%s", got, wantText)
	}
	if !strings.Contains(m.HTML, `読む → <a href="https://salon.example.com/dm/`+admin.Id+`">`) {
		t.Fatalf("HTML does not link {LINK}:\n%s", m.HTML)
	}

	// emptied: the built-in wording again
	testutil.WantStatus(t, srv, http.MethodPatch, path, adminToken, map[string]any{"subject": "", "body": ""}, http.StatusOK, "")
	if m := sendDM("Again?"); m.Subject != "[Salonbase] Bobさんから新しいメッセージ" || !strings.HasPrefix(mailText(m), "Hanaさん\n\nBobさんから新しいメッセージ") {
		t.Fatalf("after emptying: %q\n%s", m.Subject, m.Text)
	}
}

// TestBrokenMailPlaceholderIsRefused: a placeholder the e-mail cannot fill
// in, or a stray brace, gets a 400 that says what is wrong and what may be
// used; the row keeps its wording. Members cannot read or edit templates.
func TestBrokenMailPlaceholderIsRefused(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	root := testutil.SuperuserToken(t, app)
	admin := testutil.Token(t, testutil.Member(t, app, testutil.User{Role: salon.RoleAdmin}, "en"))
	tutor := testutil.Token(t, testutil.Member(t, app, testutil.User{Role: salon.RoleTutor}, "en"))
	member := testutil.Token(t, testutil.Member(t, app, testutil.User{}, "ja"))

	row := templateRow(t, srv, root, "dm", "ja")
	path := "/api/collections/mail_templates/records/" + row["id"].(string)
	for _, c := range []struct{ field, value, wantMsg string }{
		{"body", "{NAME}さん\n{SENDR}さんから", "{SENDR} is not a placeholder of this e-mail; it may use {SALON}, {APP_URL}, {NAME}, {TITLE}, {BODY}, {LINK}, {SENDER}"},
		{"subject", "{ROOM}の新着", "{ROOM} is not a placeholder"},
		{"subject", "{SENDER さんから", "a brace without its partner"},
		{"body", "{{SENDER}}", "a brace without its partner"},
	} {
		for _, token := range []string{root, admin} {
			status, out := srv.Do(t, http.MethodPatch, path, token, map[string]any{c.field: c.value})
			var resp struct {
				Message string                    `json:"message"`
				Data    map[string]map[string]any `json:"data"`
			}
			_ = json.Unmarshal(out, &resp)
			if status != http.StatusBadRequest || !strings.Contains(resp.Message, c.wantMsg) || resp.Data[c.field] == nil {
				t.Fatalf("%s %q: %d %s; want 400 naming %q on the field", c.field, c.value, status, out, c.wantMsg)
			}
		}
	}
	if after := templateRow(t, srv, root, "dm", "ja"); after["subject"] != row["subject"] || after["body"] != row["body"] {
		t.Fatalf("a refused edit changed the row: %v", after)
	}
	// the placeholders column is the server's
	testutil.WantStatus(t, srv, http.MethodPatch, path, admin, map[string]any{"placeholders": "anything"}, http.StatusOK, "")
	if got := templateRow(t, srv, root, "dm", "ja")["placeholders"]; got != row["placeholders"] {
		t.Fatalf("placeholders became %q", got)
	}

	// tutors and members see no template and cannot edit one
	for _, token := range []string{tutor, member, ""} {
		if n := testutil.CountItems(t, srv, "/api/collections/mail_templates/records", token); n != 0 {
			t.Fatalf("a non-admin lists %d templates", n)
		}
		if status, _ := srv.Do(t, http.MethodPatch, path, token, map[string]any{"subject": "hacked"}); status != http.StatusNotFound {
			t.Fatalf("a non-admin's edit: %d, want 404", status)
		}
	}
	// seeded: every kind in both languages, each valid
	for _, k := range notify.Kinds {
		for _, lang := range notify.MailLangs {
			r := templateRow(t, srv, admin, k.Kind, lang)
			for _, f := range []string{"subject", "body"} {
				if err := notify.CheckMailTemplate(k.Kind, r[f].(string)); err != nil || r[f] == "" {
					t.Fatalf("seeded %s/%s %s %q: %v", k.Kind, lang, f, r[f], err)
				}
			}
		}
	}
	if !slices.Equal(notify.MailLangs, []string{"en", "ja"}) {
		t.Fatalf("languages %v: the migration seeds en and ja", notify.MailLangs)
	}
}
