package notify

import (
	htmltemplate "html/template"
	"strings"
)

// Notification e-mails, plain text and HTML, in the member's language
// (users.lang; English when unset), from the kind's template (templates.go).
// The footer with the unsubscribe link is always added: operators edit the
// wording, never remove the way out.

var mailFooter = map[string]struct{ Why, Unsubscribe string }{
	"en": {"You receive this e-mail because of your notification settings in %s.", "Stop e-mails like this"},
	"ja": {"%sの通知設定に基づいてお送りしています。", "この種類のメールを停止する"},
}

var emailHTML = htmltemplate.Must(htmltemplate.New("html").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{{.Subject}}</title></head>
<body style="font-family:sans-serif;line-height:1.5;color:#222">
{{range .Paragraphs}}<p>{{.}}</p>
{{end}}<hr>
<p style="font-size:12px;color:#666">{{.Why}}<br><a href="{{.Unsubscribe}}">{{.UnsubscribeLabel}}</a></p>
</body></html>
`))

// mailValues are what a template's placeholders are replaced with.
func mailValues(salonName, appURL, name, lang string, n Notification, link string) map[string]string {
	if name == "" {
		name = map[string]string{"ja": "会員", "en": "member"}[mailLang(lang)]
	}
	vals := map[string]string{"SALON": salonName, "APP_URL": appURL, "NAME": name,
		"TITLE": n.Title, "BODY": n.Body, "LINK": link}
	for k, v := range n.Vars {
		if _, common := vals[k]; !common {
			vals[k] = v
		}
	}
	return vals
}

// renderEmail returns the subject, plain text and HTML of an e-mail in
// lang from tpl. A template that needs a value the sender did not give
// (a feature that fills in no placeholders) falls back to the generic
// wording, which needs only the notice's title and body.
func renderEmail(lang string, tpl MailTemplate, vals map[string]string, unsubscribe string) (subject, text, html string, err error) {
	lang = mailLang(lang)
	subject, okS := expandLine(strings.Join(strings.Fields(tpl.Subject), " "), vals, plainText)
	text, okB := expandText(tpl.Body, vals, plainText)
	if !okS || !okB {
		tpl = BuiltinMailTemplate("", lang)
		subject, _ = expandLine(tpl.Subject, vals, plainText)
		text, _ = expandText(tpl.Body, vals, plainText)
	}
	htmlBody, _ := expandText(tpl.Body, vals, htmlPiece)

	f := mailFooter[lang]
	why := strings.Replace(f.Why, "%s", vals["SALON"], 1)
	text += "\n\n--\n" + why + "\n" + f.Unsubscribe + ": " + unsubscribe + "\n"

	var paragraphs []htmltemplate.HTML
	for _, p := range strings.Split(htmlBody, "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			paragraphs = append(paragraphs, htmltemplate.HTML(strings.ReplaceAll(p, "\n", "<br>\n")))
		}
	}
	var hb strings.Builder
	err = emailHTML.Execute(&hb, map[string]any{
		"Subject": subject, "Paragraphs": paragraphs, "Why": why,
		"Unsubscribe": unsubscribe, "UnsubscribeLabel": f.Unsubscribe,
	})
	if err != nil {
		return "", "", "", err
	}
	return subject, text, hb.String(), nil
}

// htmlPiece escapes the template's text and the values; links become
// anchors, so "Open in the salon: {LINK}" is clickable.
func htmlPiece(s string, isValue bool, name string) string {
	esc := htmltemplate.HTMLEscapeString(s)
	if isValue && s != "" && (name == "LINK" || name == "APP_URL") {
		return `<a href="` + esc + `">` + esc + `</a>`
	}
	return esc
}
