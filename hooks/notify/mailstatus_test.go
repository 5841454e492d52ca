package notify_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"salonbase/hooks/notify"
	"salonbase/hooks/salon"
	"salonbase/testutil"
)

// TestOutboxHoldsMailUntilSMTPIsConfigured: without SMTP the outbox keeps
// its mail (no attempt used up), says so in salon_settings.mail_status
// (and once in the log), and sends everything once SMTP is set.
func TestOutboxHoldsMailUntilSMTPIsConfigured(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	app.Settings().SMTP.Enabled = false
	srv := testutil.Serve(t, app)
	root := testutil.SuperuserToken(t, app)
	admin := testutil.Token(t, testutil.CreateUser(t, app, testutil.User{Role: salon.RoleAdmin}))
	member := testutil.Member(t, app, testutil.User{}, "en")

	testutil.WantStatus(t, srv, http.MethodPost, "/api/salon/notifications/announce", admin,
		map[string]any{"title": "Spring meetup", "body": "see you"}, http.StatusAccepted, "")
	salon.WaitBackground(app)
	row, err := app.FindFirstRecordByFilter("email_outbox", "")
	if err != nil {
		t.Fatalf("the announcement queued no e-mail: %v", err)
	}
	for i := 0; i < 3; i++ {
		if sent, failed := deliver(t, app, time.Now().Add(time.Duration(i)*time.Hour)); sent+failed != 0 {
			t.Fatalf("without SMTP: sent %d, failed %d; want the mail held", sent, failed)
		}
	}
	row = testutil.Reload(t, app, row)
	if row.GetString("status") != "pending" || row.GetInt("attempts") != 0 {
		t.Fatalf("held mail must keep its retries: status %q, attempts %d", row.GetString("status"), row.GetInt("attempts"))
	}
	mailStatus := func() string {
		out := testutil.WantStatus(t, srv, http.MethodGet, "/api/collections/salon_settings/records", root, nil, http.StatusOK, "")
		list := testutil.Decode[testutil.List[map[string]any]](t, out)
		s, _ := list.Items[0]["mail_status"].(string)
		return s
	}
	// The worker notes a change of status itself, so the note may land a
	// moment after the delivery that found it.
	waitStatus := func(want, what string) {
		t.Helper()
		var got string
		for end := time.Now().Add(30 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
			if got = mailStatus(); got == want {
				return
			}
		}
		t.Fatalf("%s, says %q", what, got)
	}
	waitStatus(notify.MailStatusOff, "the dashboard must say mail is not configured")

	ms := testutil.StartMailServer(t)
	saveSettingsWithOutboxStopped(t, app, func() { testutil.UseMailServer(t, app, ms) })
	// the held mail goes out, once, by the worker started after the save
	// (a DeliverOutbox call here would act as a newly started server and
	// take over the worker's claim while it sends)
	if got := ms.WaitFor(t, 1)[0]; !strings.Contains(strings.Join(got.To, ","), member.Email()) {
		t.Fatalf("mail went to %v", got.To)
	}
	notify.RunningOutbox(app).Nudge()
	ms.WaitIdle(t)
	if n := len(ms.Messages()); n != 1 {
		t.Fatalf("the held mail was sent %d times", n)
	}
	waitStatus(notify.MailStatusReady, "mail_status after SMTP was set")
}
