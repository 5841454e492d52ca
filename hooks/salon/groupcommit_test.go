package salon_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"

	"salonbase/hooks/salon"
	"salonbase/testutil"
)

// Inserts made with WithInsert while the writer is busy queue up and are
// then written in one transaction, each in its own savepoint: an insert
// that fails there (a unique index) is rolled back with what goes with it
// and its caller gets the error, while the others in the same transaction
// commit, each exactly once with what goes with it.
func TestGroupCommitFailsOneInsertAlone(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	from := testutil.CreateUser(t, app, testutil.User{})
	to := testutil.CreateUser(t, app, testutil.User{})
	messages, err := app.FindCachedCollectionByNameOrId("dm_messages")
	if err != nil {
		t.Fatal(err)
	}

	// hold the writer so that every insert below queues behind it
	hold, holding := make(chan struct{}), make(chan struct{})
	go app.RunInTransaction(func(tx core.App) error {
		if _, err := tx.DB().NewQuery("UPDATE users SET name = name WHERE id = {:id}").Bind(dbx.Params{"id": from.Id}).Execute(); err != nil {
			t.Error(err)
		}
		close(holding)
		<-hold
		return nil
	})
	<-holding

	const n = 12 // client ids c-0 … c-5, each used twice
	errs := make([]error, n)
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			msg := core.NewRecord(messages)
			msg.Set("sender", from.Id)
			msg.Set("recipient", to.Id)
			msg.Set("body", fmt.Sprintf("message %d", i))
			msg.Set("client_id", fmt.Sprintf("c-%d", i%(n/2)))
			if err := salon.NewID(msg); err != nil {
				t.Error(err)
				return
			}
			ids[i] = msg.Id
			done := salon.WithInsert(app, msg, func(tx core.App) error {
				_, err := tx.DB().NewQuery("INSERT INTO notifications (id, user, kind, title, source_collection, source_id) VALUES ({:id}, {:u}, 'dm', 'x', 'dm_messages', {:m})").
					Bind(dbx.Params{"id": "n" + msg.Id[1:], "u": to.Id, "m": msg.Id}).Execute()
				return err
			})
			defer done()
			errs[i] = app.Save(msg)
		}()
	}
	// (time for the inserts to queue: without it they pass one by one,
	// which proves less but must pass the same checks)
	time.Sleep(300 * time.Millisecond)
	close(hold)
	wg.Wait()

	saved := 0
	for i, err := range errs {
		stored := testutil.CountRecords(t, app, "dm_messages", dbx.HashExp{"id": ids[i]})
		notices := testutil.CountRecords(t, app, "notifications", dbx.HashExp{"source_id": ids[i]})
		if err == nil {
			saved++
			if stored != 1 || notices != 1 {
				t.Fatalf("insert %d succeeded: %d messages, %d notices, want 1 and 1", i, stored, notices)
			}
		} else if stored != 0 || notices != 0 {
			t.Fatalf("insert %d failed (%v) but left %d messages, %d notices", i, err, stored, notices)
		}
	}
	if saved != n/2 {
		t.Fatalf("%d inserts succeeded, want one per client id (%d): %v", saved, n/2, errs)
	}
}
