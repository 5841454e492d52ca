package pb_migrations_test

import (
	"strings"
	"testing"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/mails"
)

// The members' verification and reset e-mails open the web client's pages.
func TestMemberMailsLinkToTheWebClient(t *testing.T) {
	t.Parallel()
	app := migratedApp(t)
	app.Settings().Meta.AppURL = "https://salon.example"

	users, _ := app.FindCollectionByNameOrId("users")
	u := core.NewRecord(users)
	u.Set("email", "aiko@example.com")
	u.Set("name", "Aiko")
	u.SetPassword("1234567890")
	if err := app.Save(u); err != nil {
		t.Fatal(err)
	}

	for name, send := range map[string]func(core.App, *core.Record) error{
		"https://salon.example/auth/confirm-verification/":   mails.SendRecordVerification,
		"https://salon.example/auth/confirm-password-reset/": mails.SendRecordPasswordReset,
	} {
		if err := send(app, u); err != nil {
			t.Fatal(err)
		}
		html := app.TestMailer.LastMessage().HTML
		if !strings.Contains(html, name) || strings.Contains(html, "/_/#/") {
			t.Errorf("mail does not link to %s:\n%s", name, html)
		}
	}
}
