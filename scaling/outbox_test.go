package scaling

import (
	"fmt"
	"sort"
	"testing"
	"time"

	"salonbase/testutil"
)

// TestKill9OutboxResumesAtOnce kills the server with SIGKILL while its
// e-mail worker is part-way through a claimed batch, and starts it again:
// the new process takes over its predecessor's claims at once, so every
// member gets the announcement without waiting out the claims' lease (ten
// minutes), and no mail arrives twice except, at most, the one that was
// being sent at the crash.
func TestKill9OutboxResumesAtOnce(t *testing.T) {
	t.Parallel()
	smtp := testutil.StartMailServer(t) // a real SMTP server (go-smtp)
	smtp.SetDelay(20 * time.Millisecond)
	dir := newDataDir(t)
	salon := startSalon(t, dir)
	salon.settings(t, map[string]any{
		"rateLimits": map[string]any{"enabled": false},
		"meta":       map[string]any{"appURL": "https://salon.example.com", "senderName": "Salon", "senderAddress": "no-reply@salon.example.com"},
		"smtp":       map[string]any{"enabled": true, "host": smtp.Host, "port": smtp.Port, "tls": false},
	})
	// the salon's send rate: 300 a minute, so a batch of 50 takes 10 s
	var settings struct{ Items []record }
	salon.Root.mustJSON(t, "GET", "/api/collections/salon_settings/records", nil, &settings, 200)
	salon.Root.mustJSON(t, "PATCH", "/api/collections/salon_settings/records/"+settings.Items[0].Id,
		map[string]any{"email_rate_per_minute": 300}, nil, 200)

	// 60 members with verified addresses: an announcement is one e-mail each
	const members = 60
	for range members {
		m := salon.member(t)
		salon.Root.mustJSON(t, "PATCH", "/api/collections/users/records/"+m.ID, map[string]any{"verified": true}, nil, 200)
	}
	salon.Root.mustJSON(t, "POST", "/api/salon/notifications/announce",
		map[string]any{"title": "Summer party", "body": "Come along"}, nil, 202)

	// kill -9 once a few are out: the rest of the batch is claimed, unsent
	deadline := time.Now().Add(60 * time.Second)
	for len(smtp.Messages()) < 5 {
		if time.Now().After(deadline) {
			t.Fatalf("the first e-mails did not arrive: %d", len(smtp.Messages()))
		}
		time.Sleep(20 * time.Millisecond)
	}
	salon.proc.kill9()
	atKill := len(smtp.Messages())

	startSalon(t, dir)
	// the lease is 10 minutes: 3 minutes is far less, and far more than a
	// restart and 60 mails at 300 a minute need
	deadline = time.Now().Add(3 * time.Minute)
	for distinctRecipients(smtp.Messages()) < members {
		if time.Now().After(deadline) {
			t.Fatalf("after kill -9 and restart, %d of %d members got the announcement (%d before the kill): the rest waits out the claims",
				distinctRecipients(smtp.Messages()), members, atKill)
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(time.Second) // let a late duplicate arrive if there is one
	perID := map[string]int{}
	for _, m := range smtp.Messages() {
		perID[m.Header.Get("Message-ID")]++
	}
	var twice []string
	extra := 0
	for id, n := range perID {
		if n > 1 {
			twice = append(twice, fmt.Sprintf("%s ×%d", id, n))
			extra += n - 1
		}
	}
	sort.Strings(twice)
	t.Logf("%d e-mails before kill -9, %d in all, for %d members; sent twice: %v", atKill, len(smtp.Messages()), members, twice)
	if extra > 1 {
		t.Fatalf("mail sent twice beyond the one in flight at the crash: %v", twice)
	}
}

func distinctRecipients(msgs []testutil.ReceivedMail) int {
	seen := map[string]bool{}
	for _, m := range msgs {
		for _, to := range m.To {
			seen[to] = true
		}
	}
	return len(seen)
}
