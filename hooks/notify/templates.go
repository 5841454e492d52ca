package notify

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"

	"salonbase/hooks/salon"
)

// The wording of notification e-mails: a subject and a text per kind and
// language, with placeholders in braces ({SALON}, {SENDER} …) that are
// replaced when a mail is queued. Operators edit them in the dashboard
// (the mail_templates collection, seeded with the built-in wording below);
// an empty subject or body falls back to the built-in one.

// commonPlaceholders are available in every kind's e-mail.
var commonPlaceholders = []string{"SALON", "APP_URL", "NAME", "TITLE", "BODY", "LINK"}

// mailKind is one kind's built-in wording. Title is the notice's title (in
// the app and {TITLE}), with the kind's placeholders; Vars are the
// placeholders the feature that sends it fills in.
type mailKind struct {
	Vars  []string
	Title map[string]string // lang → title
}

// mailKinds has an entry for every kind in Kinds (the kinds that can be
// e-mailed). An empty Title keeps the sender's own title (announcements).
var mailKinds = map[string]mailKind{
	"dm": {[]string{"SENDER"}, map[string]string{
		"en": "New message from {SENDER}",
		"ja": "{SENDER}さんから新しいメッセージ"}},
	"mention": {[]string{"AUTHOR", "ROOM"}, map[string]string{
		"en": "{AUTHOR} mentioned you in {ROOM}",
		"ja": "{AUTHOR}さんが{ROOM}であなたをメンションしました"}},
	"reply": {[]string{"AUTHOR", "TOPIC"}, map[string]string{
		"en": "{AUTHOR} replied in \"{TOPIC}\"",
		"ja": "{AUTHOR}さんが「{TOPIC}」に返信しました"}},
	"room_post": {[]string{"AUTHOR", "ROOM"}, map[string]string{
		"en": "{AUTHOR} in {ROOM}",
		"ja": "{ROOM}に{AUTHOR}さんの新しい投稿"}},
	"follow_post": {[]string{"AUTHOR", "TOPIC"}, map[string]string{
		"en": "{AUTHOR} opened a topic: {TOPIC}",
		"ja": "{AUTHOR}さんが新しいトピックを立てました: {TOPIC}"}},
	"forum_follow": {[]string{"AUTHOR", "TOPIC"}, map[string]string{
		"en": "{AUTHOR} posted in \"{TOPIC}\"",
		"ja": "{AUTHOR}さんが「{TOPIC}」に投稿しました"}},
	"live": {[]string{"HOST", "STREAM"}, map[string]string{
		"en": "Live with {HOST}: {STREAM}",
		"ja": "{HOST}さんのライブ配信: {STREAM}"}},
	"event": {[]string{"EVENT"}, map[string]string{
		"en": "New event: {EVENT}",
		"ja": "新しいイベント: {EVENT}"}},
	"event_reminder": {[]string{"EVENT"}, map[string]string{
		"en": "Reminder: {EVENT}",
		"ja": "リマインダー: {EVENT}"}},
	"event_changed": {[]string{"EVENT"}, map[string]string{
		"en": "Event changed: {EVENT}",
		"ja": "イベント変更: {EVENT}"}},
	"event_cancelled": {[]string{"EVENT"}, map[string]string{
		"en": "Event cancelled: {EVENT}",
		"ja": "イベント中止: {EVENT}"}},
	"waitlist_promoted": {[]string{"EVENT"}, map[string]string{
		"en": "You have a seat: {EVENT}",
		"ja": "キャンセル待ちから参加確定: {EVENT}"}},
	"group_request": {[]string{"MEMBER", "GROUP"}, map[string]string{
		"en": "{MEMBER} asks to join {GROUP}",
		"ja": "{MEMBER}さんが{GROUP}への参加を申請しました"}},
	"group_approved": {[]string{"GROUP"}, map[string]string{
		"en": "Your request to join {GROUP} was approved",
		"ja": "{GROUP}への参加申請が承認されました"}},
	"announcement": {nil, map[string]string{"en": "", "ja": ""}},
	"report": {[]string{"TARGET"}, map[string]string{
		"en": "New report: {TARGET}",
		"ja": "新しい通報: {TARGET}"}},
}

// appKinds are the titles of the kinds that are shown in the app only
// (never e-mailed, so they have no mail_templates row), per language.
var appKinds = map[string]map[string]string{
	"tip_received": {"en": "{FROM} sent you a tip", "ja": "{FROM}さんから投げ銭が届きました"},
	"order_paid":   {"en": "Payment received: {PRODUCT}", "ja": "お支払いを受け付けました: {PRODUCT}"},
	"order_sold":   {"en": "You sold {PRODUCT}", "ja": "{PRODUCT}が売れました"},
	"missed_call":  {"en": "Missed call from {CALLER}", "ja": "{CALLER}さんからの不在着信"},
	"group_invite": {"en": "You are invited to the group {GROUP}", "ja": "グループ「{GROUP}」に招待されました"},
	"group_owner":  {"en": "You now own the group {GROUP}", "ja": "グループ「{GROUP}」のオーナーになりました"},
}

// MailLangs are the languages every e-mail exists in (users.lang).
var MailLangs = []string{"en", "ja"}

// MailTemplate is one e-mail's wording.
type MailTemplate struct {
	Subject string
	Body    string
}

var mailFrame = map[string]struct{ Greeting, Open string }{
	"en": {"Hello {NAME},", "Open in the salon: {LINK}"},
	"ja": {"{NAME}さん", "サロンで開く: {LINK}"},
}

// BuiltinMailTemplate is the wording of kind's e-mail in lang when the
// operator has not changed it (and what the migration seeded).
func BuiltinMailTemplate(kind, lang string) MailTemplate {
	lang = mailLang(lang)
	title := "{TITLE}"
	if k, ok := mailKinds[kind]; ok && k.Title[lang] != "" {
		title = k.Title[lang]
	}
	f := mailFrame[lang]
	return MailTemplate{
		Subject: "[{SALON}] " + title,
		Body:    f.Greeting + "\n\n" + title + "\n\n{BODY}\n\n" + f.Open,
	}
}

// MailPlaceholders lists the placeholders kind's e-mail may use.
func MailPlaceholders(kind string) []string {
	return append(slices.Clone(commonPlaceholders), mailKinds[kind].Vars...)
}

func mailLang(lang string) string {
	if lang == "ja" {
		return "ja"
	}
	return "en"
}

// localizedTitle is the notice's title in lang, from the kind's wording and
// the values its sender filled in; the sender's own title where the kind
// has no wording or a value is missing.
func localizedTitle(lang string, n Notification) string {
	wording := mailKinds[n.Kind].Title
	if wording == nil {
		wording = appKinds[n.Kind]
	}
	if wording[mailLang(lang)] == "" {
		return n.Title
	}
	out, ok := expandLine(wording[mailLang(lang)], n.Vars, plainText)
	if !ok {
		return n.Title
	}
	return out
}

var placeholderRe = regexp.MustCompile(`\{([^{}]*)\}`)

// CheckMailTemplate reports the first problem of text as a sentence for
// the operator: an unknown placeholder, or a brace that opens no
// placeholder.
func CheckMailTemplate(kind, text string) error {
	allowed := MailPlaceholders(kind)
	for _, m := range placeholderRe.FindAllStringSubmatch(text, -1) {
		if !slices.Contains(allowed, m[1]) {
			return fmt.Errorf("%s is not a placeholder of this e-mail; it may use %s", m[0], braced(allowed))
		}
	}
	if rest := placeholderRe.ReplaceAllString(text, ""); strings.ContainsAny(rest, "{}") {
		return fmt.Errorf("a brace without its partner: placeholders are written in braces, such as {SALON}; this e-mail may use %s", braced(allowed))
	}
	return nil
}

func braced(names []string) string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = "{" + n + "}"
	}
	return strings.Join(out, ", ")
}

// escaper renders a placeholder's value (or a piece of the template's own
// text) for one part of the mail.
type escaper func(text string, isValue bool, name string) string

func plainText(s string, _ bool, _ string) string { return s }

// expandLine replaces the placeholders of one line. ok is false when a
// placeholder has no value at all (a sender that does not fill it in).
// empty is true when the line has placeholders and all of them are empty.
func expandLine(line string, vals map[string]string, esc escaper) (out string, ok bool) {
	out, ok, _ = expandLineEmpty(line, vals, esc)
	return out, ok
}

func expandLineEmpty(line string, vals map[string]string, esc escaper) (out string, ok, empty bool) {
	var b strings.Builder
	ok, empty = true, true
	found := false
	last := 0
	for _, loc := range placeholderRe.FindAllStringSubmatchIndex(line, -1) {
		b.WriteString(esc(line[last:loc[0]], false, ""))
		name := line[loc[2]:loc[3]]
		v, has := vals[name]
		if !has {
			ok = false
		}
		found = true
		if v != "" {
			empty = false
		}
		b.WriteString(esc(v, true, name))
		last = loc[1]
	}
	b.WriteString(esc(line[last:], false, ""))
	return b.String(), ok, found && empty
}

// expandText replaces the placeholders of a whole text. A line whose
// placeholders are all empty is left out (no "Open in the salon: " without
// a link), and so are blank lines that would pile up.
func expandText(text string, vals map[string]string, esc escaper) (string, bool) {
	var lines []string
	for _, line := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		out, ok, empty := expandLineEmpty(line, vals, esc)
		if !ok {
			return "", false
		}
		if empty {
			continue
		}
		if strings.TrimSpace(out) == "" && (len(lines) == 0 || strings.TrimSpace(lines[len(lines)-1]) == "") {
			continue
		}
		lines = append(lines, out)
	}
	for len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) == "" {
		lines = lines[:len(lines)-1]
	}
	return strings.Join(lines, "\n"), true
}

// mailTemplates is kind's e-mail wording per language: the operator's from
// mail_templates, the built-in one where a field is empty.
func mailTemplates(app core.App, kind string) (map[string]MailTemplate, error) {
	return salon.CachedConfig(app, "mail_templates/"+kind, func() (map[string]MailTemplate, error) {
		return loadMailTemplates(app, kind)
	})
}

func loadMailTemplates(app core.App, kind string) (map[string]MailTemplate, error) {
	out := make(map[string]MailTemplate, len(MailLangs))
	for _, lang := range MailLangs {
		out[lang] = BuiltinMailTemplate(kind, lang)
	}
	var rows []struct {
		Lang    string `db:"lang"`
		Subject string `db:"subject"`
		Body    string `db:"body"`
	}
	err := app.DB().Select("lang", "subject", "body").From("mail_templates").
		Where(dbx.HashExp{"kind": kind}).All(&rows)
	if err != nil {
		return nil, fmt.Errorf("mail templates of %s: %w", kind, err)
	}
	for _, r := range rows {
		t, ok := out[r.Lang]
		if !ok {
			continue
		}
		if strings.TrimSpace(r.Subject) != "" {
			t.Subject = r.Subject
		}
		if strings.TrimSpace(r.Body) != "" {
			t.Body = r.Body
		}
		out[r.Lang] = t
	}
	return out, nil
}
