package notify_test

import (
	"net/http"
	"testing"
	"time"

	"salonbase/hooks/notify"
	"salonbase/testutil"
)

type logLine struct {
	Message string         `json:"message"`
	Level   int            `json:"level"`
	Data    map[string]any `json:"data"`
}

// TestMailNotConfiguredIsLoggedOnce: without SMTP, however often the
// outbox looks (the worker's passes and direct deliveries), the log says once
// that mail is not configured, with how many e-mails wait; once SMTP is
// set it says mail is ready, and a later switch-off is logged once again.
func TestMailNotConfiguredIsLoggedOnce(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	app.Settings().SMTP.Enabled = false
	// keep logs as the salon's settings do (tests.TestApp turns storing them off)
	app.Settings().Logs.MaxDays = 14
	member := testutil.Member(t, app, testutil.User{}, "en")
	for i := 0; i < 3; i++ {
		if err := notify.Notify(app, []string{member.Id}, notify.Notification{Kind: "announcement", Title: "Meetup"}); err != nil {
			t.Fatal(err)
		}
	}
	srv := testutil.Serve(t, app) // starts the outbox worker, as serve does
	root := testutil.SuperuserToken(t, app)

	// logs reads the stored log lines about the outbox, oldest first.
	logs := func() []logLine {
		t.Helper()
		marker := "test marker " + time.Now().Format(time.RFC3339Nano)
		app.Logger().Info(marker)
		deadline := time.Now().Add(30 * time.Second)
		for {
			out := testutil.WantStatus(t, srv, http.MethodGet, "/api/logs?perPage=500&sort=created&filter="+
				testutil.Urlq("message ~ 'email outbox' || message = '"+marker+"'"), root, nil, http.StatusOK, "")
			list := testutil.Decode[testutil.List[logLine]](t, out)
			var lines []logLine
			found := false
			for _, l := range list.Items {
				if l.Message == marker {
					found = true
				} else {
					lines = append(lines, l)
				}
			}
			if found {
				return lines
			}
			if time.Now().After(deadline) {
				t.Fatalf("the log marker was not stored within 30 s")
			}
			time.Sleep(200 * time.Millisecond)
		}
	}

	for i := 0; i < 5; i++ {
		deliver(t, app, time.Now().Add(time.Duration(i)*time.Hour))
	}
	lines := logs()
	if len(lines) != 1 || lines[0].Message != "email outbox: mail is "+notify.MailStatusOff {
		t.Fatalf("want one line saying mail is not configured, got %+v", lines)
	}
	if lines[0].Level != 4 || lines[0].Data["waiting"] != float64(3) {
		t.Fatalf("the line is a warning with the 3 waiting e-mails: %+v", lines[0])
	}

	ms := testutil.StartMailServer(t)
	saveSettingsWithOutboxStopped(t, app, func() { testutil.UseMailServer(t, app, ms) })
	// the running worker sends the held mail; DeliverOutbox beside it would
	// act as a newly started server and take its claims over mid-send
	ms.WaitFor(t, 3)
	deadline := time.Now().Add(30 * time.Second)
	for {
		var waiting int
		if err := app.DB().NewQuery("SELECT COUNT(*) FROM {{email_outbox}} WHERE [[status]] IN ('pending', 'sending')").Row(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d e-mails still wait 30 s after the SMTP server received them", waiting)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// switched off the way the dashboard does it: a settings save
	off, err := app.Settings().Clone()
	if err != nil {
		t.Fatal(err)
	}
	off.SMTP.Enabled = false
	saveSettingsWithOutboxStopped(t, app, func() {
		if err := app.Save(off); err != nil {
			t.Fatal(err)
		}
	})
	for i := 0; i < 3; i++ {
		deliver(t, app, time.Now())
	}
	lines = logs()
	var got []string
	for _, l := range lines {
		got = append(got, l.Message)
	}
	want := []string{"email outbox: mail is " + notify.MailStatusOff, "email outbox: " + notify.MailStatusReady, "email outbox: mail is " + notify.MailStatusOff}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("log lines about mail:\n%q\nwant one per change:\n%q", got, want)
	}
	if lines[2].Data["waiting"] != float64(0) {
		t.Fatalf("nothing waits after the held mail went out: %+v", lines[2])
	}
}
