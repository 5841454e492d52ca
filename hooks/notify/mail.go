package notify

import (
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
)

// E-mail templates of notifications, plain text and HTML, in the member's
// language (users.lang; English when unset).

type emailData struct {
	Salon       string
	Name        string
	Title       string
	Body        string
	Link        string
	Unsubscribe string
	Kind        string
	T           emailStrings
}

type emailStrings struct {
	Greeting    string // "Hello {name},"
	Open        string
	Why         string
	Unsubscribe string
}

var emailI18n = map[string]emailStrings{
	"en": {
		Greeting:    "Hello %s,",
		Open:        "Open in the salon",
		Why:         "You receive this e-mail because of your notification settings in %s.",
		Unsubscribe: "Stop e-mails like this",
	},
	"ja": {
		Greeting:    "%sさん",
		Open:        "サロンで開く",
		Why:         "%sの通知設定に基づいてお送りしています。",
		Unsubscribe: "この種類のメールを停止する",
	},
}

var emailText = texttemplate.Must(texttemplate.New("text").Parse(`{{.T.Greeting}}

{{.Title}}
{{if .Body}}
{{.Body}}
{{end}}{{if .Link}}
{{.T.Open}}: {{.Link}}
{{end}}
--
{{.T.Why}}
{{.T.Unsubscribe}}: {{.Unsubscribe}}
`))

var emailHTML = htmltemplate.Must(htmltemplate.New("html").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{{.Title}}</title></head>
<body style="font-family:sans-serif;line-height:1.5;color:#222">
<p>{{.T.Greeting}}</p>
<h2 style="font-size:18px">{{.Title}}</h2>
{{if .Body}}<p style="white-space:pre-wrap">{{.Body}}</p>{{end}}
{{if .Link}}<p><a href="{{.Link}}">{{.T.Open}}</a></p>{{end}}
<hr>
<p style="font-size:12px;color:#666">{{.T.Why}}<br><a href="{{.Unsubscribe}}">{{.T.Unsubscribe}}</a></p>
</body></html>
`))

// kindLabels prefix the titles of the notifications this package writes
// itself, in the member's language (other features write their own titles).
var kindLabels = map[string]map[string]string{
	"en": {
		"event":             "New event",
		"live":              "Live",
		"event_reminder":    "Reminder",
		"event_changed":     "Event changed",
		"event_cancelled":   "Event cancelled",
		"waitlist_promoted": "You have a seat",
	},
	"ja": {
		"event":             "新しいイベント",
		"live":              "ライブ配信",
		"event_reminder":    "リマインダー",
		"event_changed":     "イベント変更",
		"event_cancelled":   "イベント中止",
		"waitlist_promoted": "キャンセル待ちから参加確定",
	},
}

// localizedTitle is title with the kind's label in lang, if it has one.
func localizedTitle(lang, kind, title string) string {
	labels, ok := kindLabels[lang]
	if !ok {
		labels = kindLabels["en"]
	}
	if label := labels[kind]; label != "" {
		return label + ": " + title
	}
	return title
}

// renderEmail returns the subject, plain text and HTML of a notification
// e-mail in lang ("ja" or English).
func renderEmail(lang string, d emailData) (subject, text, html string, err error) {
	t, ok := emailI18n[lang]
	if !ok {
		t = emailI18n["en"]
	}
	name := d.Name
	if name == "" {
		name = map[bool]string{true: "会員", false: "member"}[lang == "ja"]
	}
	t.Greeting = strings.Replace(t.Greeting, "%s", name, 1)
	t.Why = strings.Replace(t.Why, "%s", d.Salon, 1)
	d.T = t

	var tb, hb strings.Builder
	if err := emailText.Execute(&tb, d); err != nil {
		return "", "", "", err
	}
	if err := emailHTML.Execute(&hb, d); err != nil {
		return "", "", "", err
	}
	subject = d.Title
	if d.Salon != "" {
		subject = "[" + d.Salon + "] " + d.Title
	}
	return subject, tb.String(), hb.String(), nil
}
