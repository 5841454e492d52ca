package dm_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/pocketbase/dbx"

	"salonbase/testutil"
)

// Members who send at the same moment share a transaction (the group
// commit): each message still gets exactly one notice and one e-mail for
// its recipient, a retry racing its first attempt inside a batch is
// answered with the first message, and nobody's message is lost.
func TestDMConcurrentSendsEachGetOneNoticeAndOneMail(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	to := testutil.Member(t, app, testutil.User{}, "en")
	const senders, each, retries = 6, 5, 4
	tokens := make([]string, senders)
	for i := range tokens {
		tokens[i] = testutil.Token(t, testutil.Member(t, app, testutil.User{}, "en"))
	}

	var wg sync.WaitGroup
	var mu sync.Mutex
	sent := map[string]string{}    // message id → body
	dup := make([]string, retries) // ids answered to the same client_id
	for i, token := range tokens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range each {
				body := fmt.Sprintf("batched message %d-%d", i, k)
				m := mustSendDM(t, srv, token, to.Id, map[string]any{"subject": body, "body": body, "client_id": fmt.Sprintf("c-%d-%d", i, k)})
				mu.Lock()
				sent[m.ID] = body
				mu.Unlock()
			}
		}()
	}
	for r := range retries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dup[r] = mustSendDM(t, srv, tokens[0], to.Id, map[string]any{"subject": "sent once, retried", "body": "sent once, retried", "client_id": "same"}).ID
		}()
	}
	wg.Wait()
	for _, id := range dup {
		if id != dup[0] {
			t.Fatalf("retries of one client_id answered different messages: %v", dup)
		}
	}
	sent[dup[0]] = "sent once, retried"

	if n := testutil.CountRecords(t, app, "dm_messages", dbx.HashExp{"recipient": to.Id}); n != senders*each+1 || len(sent) != n {
		t.Fatalf("%d messages stored, %d answered, want %d", n, len(sent), senders*each+1)
	}
	for id, body := range sent {
		if n := testutil.CountRecords(t, app, "notifications", dbx.HashExp{"user": to.Id, "kind": "dm", "source_id": id}); n != 1 {
			t.Fatalf("message %q: %d notices, want 1", body, n)
		}
		var mails int
		if err := app.DB().NewQuery("SELECT count(*) FROM email_outbox WHERE user = {:u} AND instr(text, {:b}) > 0").
			Bind(dbx.Params{"u": to.Id, "b": body}).Row(&mails); err != nil {
			t.Fatal(err)
		}
		if mails != 1 {
			t.Fatalf("message %q: %d e-mails, want 1", body, mails)
		}
	}
	if n := testutil.CountRecords(t, app, "email_outbox", dbx.HashExp{"user": to.Id}); n != len(sent) {
		t.Fatalf("%d e-mails for %d messages", n, len(sent))
	}
}
