package notify

import (
	"fmt"

	"github.com/pocketbase/pocketbase/core"

	"salonbase/hooks/salon"
)

// Mail is one e-mail that is not a notification (account mails: signup
// confirmations and warnings), queued in email_outbox like the others so
// that no request waits for SMTP.
type Mail struct {
	User    string // the users record it concerns ("" for none)
	To      string
	ToName  string
	Kind    string // what it is, for the outbox and its rate checks
	Subject string
	Text    string
	HTML    string
}

// QueueMail writes m into email_outbox in tx; the worker sends it.
func QueueMail(tx core.App, m Mail) error {
	c, err := tx.FindCachedCollectionByNameOrId("email_outbox")
	if err != nil {
		return fmt.Errorf("queue mail: %w", err)
	}
	r := core.NewRecord(c)
	if m.User != "" {
		r.Set("user", m.User)
	}
	r.Set("to", m.To)
	r.Set("to_name", salon.Truncate(m.ToName, 200))
	r.Set("kind", m.Kind)
	r.Set("subject", salon.Truncate(m.Subject, 300))
	r.Set("text", m.Text)
	r.Set("html", m.HTML)
	r.Set("status", "pending")
	r.Set("next_attempt_at", salon.NowUTC())
	if err := tx.Save(r); err != nil {
		return fmt.Errorf("queue %s mail: %w", m.Kind, err)
	}
	return nil
}
