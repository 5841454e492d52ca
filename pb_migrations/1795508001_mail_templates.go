package pb_migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
	"github.com/pocketbase/pocketbase/tools/types"
)

// mail_templates: the wording of every notification e-mail, per kind and
// language (users.lang picks it), editable in the dashboard the way
// PocketBase's own auth mails are. Seeded with the wording the server had
// built in when this migration landed; an emptied subject or body falls
// back to the server's built-in wording. The server refuses a placeholder
// the e-mail cannot fill in.
func init() {
	const appAdmin = "(@request.auth.collectionName = 'users' && @request.auth.role = 'admin' && @request.auth.suspended = false)"
	// kind, placeholders, en subject, en body, ja subject, ja body
	seeds := [][6]string{
		{"dm", "{SALON}, {APP_URL}, {NAME}, {TITLE}, {BODY}, {LINK}, {SENDER}", "[{SALON}] New message from {SENDER}", "Hello {NAME},\n\nNew message from {SENDER}\n\n{BODY}\n\nOpen in the salon: {LINK}", "[{SALON}] {SENDER}さんから新しいメッセージ", "{NAME}さん\n\n{SENDER}さんから新しいメッセージ\n\n{BODY}\n\nサロンで開く: {LINK}"},
		{"mention", "{SALON}, {APP_URL}, {NAME}, {TITLE}, {BODY}, {LINK}, {AUTHOR}, {ROOM}", "[{SALON}] {AUTHOR} mentioned you in {ROOM}", "Hello {NAME},\n\n{AUTHOR} mentioned you in {ROOM}\n\n{BODY}\n\nOpen in the salon: {LINK}", "[{SALON}] {AUTHOR}さんが{ROOM}であなたをメンションしました", "{NAME}さん\n\n{AUTHOR}さんが{ROOM}であなたをメンションしました\n\n{BODY}\n\nサロンで開く: {LINK}"},
		{"reply", "{SALON}, {APP_URL}, {NAME}, {TITLE}, {BODY}, {LINK}, {AUTHOR}, {TOPIC}", "[{SALON}] {AUTHOR} replied in \"{TOPIC}\"", "Hello {NAME},\n\n{AUTHOR} replied in \"{TOPIC}\"\n\n{BODY}\n\nOpen in the salon: {LINK}", "[{SALON}] {AUTHOR}さんが「{TOPIC}」に返信しました", "{NAME}さん\n\n{AUTHOR}さんが「{TOPIC}」に返信しました\n\n{BODY}\n\nサロンで開く: {LINK}"},
		{"room_post", "{SALON}, {APP_URL}, {NAME}, {TITLE}, {BODY}, {LINK}, {AUTHOR}, {ROOM}", "[{SALON}] {AUTHOR} in {ROOM}", "Hello {NAME},\n\n{AUTHOR} in {ROOM}\n\n{BODY}\n\nOpen in the salon: {LINK}", "[{SALON}] {ROOM}に{AUTHOR}さんの新しい投稿", "{NAME}さん\n\n{ROOM}に{AUTHOR}さんの新しい投稿\n\n{BODY}\n\nサロンで開く: {LINK}"},
		{"follow_post", "{SALON}, {APP_URL}, {NAME}, {TITLE}, {BODY}, {LINK}, {AUTHOR}, {TOPIC}", "[{SALON}] {AUTHOR} opened a topic: {TOPIC}", "Hello {NAME},\n\n{AUTHOR} opened a topic: {TOPIC}\n\n{BODY}\n\nOpen in the salon: {LINK}", "[{SALON}] {AUTHOR}さんが新しいトピックを立てました: {TOPIC}", "{NAME}さん\n\n{AUTHOR}さんが新しいトピックを立てました: {TOPIC}\n\n{BODY}\n\nサロンで開く: {LINK}"},
		{"live", "{SALON}, {APP_URL}, {NAME}, {TITLE}, {BODY}, {LINK}, {HOST}, {STREAM}", "[{SALON}] Live with {HOST}: {STREAM}", "Hello {NAME},\n\nLive with {HOST}: {STREAM}\n\n{BODY}\n\nOpen in the salon: {LINK}", "[{SALON}] {HOST}さんのライブ配信: {STREAM}", "{NAME}さん\n\n{HOST}さんのライブ配信: {STREAM}\n\n{BODY}\n\nサロンで開く: {LINK}"},
		{"event", "{SALON}, {APP_URL}, {NAME}, {TITLE}, {BODY}, {LINK}, {EVENT}", "[{SALON}] New event: {EVENT}", "Hello {NAME},\n\nNew event: {EVENT}\n\n{BODY}\n\nOpen in the salon: {LINK}", "[{SALON}] 新しいイベント: {EVENT}", "{NAME}さん\n\n新しいイベント: {EVENT}\n\n{BODY}\n\nサロンで開く: {LINK}"},
		{"event_reminder", "{SALON}, {APP_URL}, {NAME}, {TITLE}, {BODY}, {LINK}, {EVENT}", "[{SALON}] Reminder: {EVENT}", "Hello {NAME},\n\nReminder: {EVENT}\n\n{BODY}\n\nOpen in the salon: {LINK}", "[{SALON}] リマインダー: {EVENT}", "{NAME}さん\n\nリマインダー: {EVENT}\n\n{BODY}\n\nサロンで開く: {LINK}"},
		{"event_changed", "{SALON}, {APP_URL}, {NAME}, {TITLE}, {BODY}, {LINK}, {EVENT}", "[{SALON}] Event changed: {EVENT}", "Hello {NAME},\n\nEvent changed: {EVENT}\n\n{BODY}\n\nOpen in the salon: {LINK}", "[{SALON}] イベント変更: {EVENT}", "{NAME}さん\n\nイベント変更: {EVENT}\n\n{BODY}\n\nサロンで開く: {LINK}"},
		{"event_cancelled", "{SALON}, {APP_URL}, {NAME}, {TITLE}, {BODY}, {LINK}, {EVENT}", "[{SALON}] Event cancelled: {EVENT}", "Hello {NAME},\n\nEvent cancelled: {EVENT}\n\n{BODY}\n\nOpen in the salon: {LINK}", "[{SALON}] イベント中止: {EVENT}", "{NAME}さん\n\nイベント中止: {EVENT}\n\n{BODY}\n\nサロンで開く: {LINK}"},
		{"waitlist_promoted", "{SALON}, {APP_URL}, {NAME}, {TITLE}, {BODY}, {LINK}, {EVENT}", "[{SALON}] You have a seat: {EVENT}", "Hello {NAME},\n\nYou have a seat: {EVENT}\n\n{BODY}\n\nOpen in the salon: {LINK}", "[{SALON}] キャンセル待ちから参加確定: {EVENT}", "{NAME}さん\n\nキャンセル待ちから参加確定: {EVENT}\n\n{BODY}\n\nサロンで開く: {LINK}"},
		{"group_request", "{SALON}, {APP_URL}, {NAME}, {TITLE}, {BODY}, {LINK}, {MEMBER}, {GROUP}", "[{SALON}] {MEMBER} asks to join {GROUP}", "Hello {NAME},\n\n{MEMBER} asks to join {GROUP}\n\n{BODY}\n\nOpen in the salon: {LINK}", "[{SALON}] {MEMBER}さんが{GROUP}への参加を申請しました", "{NAME}さん\n\n{MEMBER}さんが{GROUP}への参加を申請しました\n\n{BODY}\n\nサロンで開く: {LINK}"},
		{"group_approved", "{SALON}, {APP_URL}, {NAME}, {TITLE}, {BODY}, {LINK}, {GROUP}", "[{SALON}] Your request to join {GROUP} was approved", "Hello {NAME},\n\nYour request to join {GROUP} was approved\n\n{BODY}\n\nOpen in the salon: {LINK}", "[{SALON}] {GROUP}への参加申請が承認されました", "{NAME}さん\n\n{GROUP}への参加申請が承認されました\n\n{BODY}\n\nサロンで開く: {LINK}"},
		{"announcement", "{SALON}, {APP_URL}, {NAME}, {TITLE}, {BODY}, {LINK}", "[{SALON}] {TITLE}", "Hello {NAME},\n\n{TITLE}\n\n{BODY}\n\nOpen in the salon: {LINK}", "[{SALON}] {TITLE}", "{NAME}さん\n\n{TITLE}\n\n{BODY}\n\nサロンで開く: {LINK}"},
		{"report", "{SALON}, {APP_URL}, {NAME}, {TITLE}, {BODY}, {LINK}, {TARGET}", "[{SALON}] New report: {TARGET}", "Hello {NAME},\n\nNew report: {TARGET}\n\n{BODY}\n\nOpen in the salon: {LINK}", "[{SALON}] 新しい通報: {TARGET}", "{NAME}さん\n\n新しい通報: {TARGET}\n\n{BODY}\n\nサロンで開く: {LINK}"},
	}
	m.Register(func(app core.App) error {
		kinds := make([]string, len(seeds))
		for i, s := range seeds {
			kinds[i] = s[0]
		}
		c := core.NewBaseCollection("mail_templates")
		c.ListRule = types.Pointer(appAdmin)
		c.ViewRule = types.Pointer(appAdmin)
		c.UpdateRule = types.Pointer(appAdmin)
		c.Fields.Add(
			&core.SelectField{Name: "kind", Required: true, MaxSelect: 1, Values: kinds,
				Help: "The notification this e-mail is sent for (dm: a direct message, mention, reply: a reply in the forum, …)."},
			&core.SelectField{Name: "lang", Required: true, MaxSelect: 1, Values: []string{"en", "ja"},
				Help: "Members whose language (users.lang) is this get this wording; members without a language get en."},
			&core.TextField{Name: "subject", Max: 300,
				Help: "The subject. Words in braces such as {SALON} are placeholders, replaced when the mail is sent (see placeholders). Empty: the built-in subject."},
			&core.TextField{Name: "body", Max: 5000,
				Help: "The text (the HTML part is made from it; {LINK} becomes a link). A line whose placeholders are all empty is left out. The footer with the unsubscribe link is always added. Empty: the built-in text."},
			&core.TextField{Name: "placeholders", Max: 500,
				Help: "Set by the server: the placeholders this e-mail may use. {SALON} the Application name, {APP_URL} its URL, {NAME} the member's name, {TITLE} the notice's title, {BODY} its text, {LINK} the page it opens; the others are named after what they hold."},
		)
		addTimestamps(c)
		c.AddIndex("idx_mail_templates_kind_lang", true, "kind, lang", "")
		if err := app.Save(c); err != nil {
			return err
		}
		for _, s := range seeds {
			for i, lang := range []string{"en", "ja"} {
				r := core.NewRecord(c)
				r.Set("kind", s[0])
				r.Set("lang", lang)
				r.Set("placeholders", s[1])
				r.Set("subject", s[2+2*i])
				r.Set("body", s[3+2*i])
				if err := app.SaveNoValidate(r); err != nil {
					return err
				}
			}
		}
		return nil
	}, func(app core.App) error {
		c, err := app.FindCollectionByNameOrId("mail_templates")
		if err != nil {
			return err
		}
		return app.Delete(c)
	})
}
