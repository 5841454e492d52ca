package notify_test

import (
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"golang.org/x/crypto/bcrypt"

	"salonbase/hooks/notify"
	"salonbase/hooks/salon"
	"salonbase/testutil"
)

// BenchmarkAnnouncementTo10kMembers publishes an event through HTTP in a
// salon of 10,000 verified members and measures how long the publish
// request takes, how long until every in-app notification exists, what was
// written, and how long the outbox takes to hand the queued e-mails to a
// local SMTP server (go-smtp) with the rate limit off.
//
//	go test ./hooks/notify -run '^$' -bench AnnouncementTo10k -benchtime 1x
func BenchmarkAnnouncementTo10kMembers(b *testing.B) {
	benchAnnouncement(b, 10000, 0, 0)
}

// The same with 200 of the members online, subscribed to their
// notifications over realtime (SSE): PocketBase checks the notifications
// list rule for every subscribed client and every new record.
func BenchmarkAnnouncementTo10kMembers200Online(b *testing.B) {
	benchAnnouncement(b, 10000, 200, 0)
}

// The case: 500 members online, and four other members posting
// room messages one after another while the notices are written (their
// latency is the write-p50/p99-ms metrics).
func BenchmarkAnnouncementTo10kMembers500OnlineWriting(b *testing.B) {
	benchAnnouncement(b, 10000, 500, 4)
}

func BenchmarkAnnouncementTo1kMembers200Online(b *testing.B) {
	benchAnnouncement(b, 1000, 200, 0)
}

func benchAnnouncement(b *testing.B, members, online, writers int) {
	app := testutil.NewApp(b)
	ms := testutil.StartMailServer(b)
	testutil.UseMailServer(b, app, ms)
	srv := testutil.Serve(b, app)
	testutil.UpdateSettings(b, app, map[string]any{"email_rate_per_minute": 0})
	// the worker started by Serve would race DeliverOutbox below for the rows
	if w, ok := app.Store().Get("salon.outbox").(*notify.OutboxWorker); ok {
		w.Stop()
	}
	admin := testutil.Member(b, app, testutil.User{Role: "admin"}, "en")
	insertMembers(b, app, members)
	var subs []*testutil.Realtime
	if online > 0 {
		var recs []*core.Record
		if err := app.RecordQuery("users").AndWhere(dbx.NewExp("email LIKE 'bench%'")).Limit(int64(online)).All(&recs); err != nil {
			b.Fatal(err)
		}
		for _, r := range recs {
			subs = append(subs, srv.Subscribe(b, testutil.Token(b, r), "notifications"))
		}
	}

	for i := 0; i < b.N; i++ {
		ev := testutil.NewEvent(b, app, admin, map[string]any{"published": false, "title": fmt.Sprintf("Announcement %d", i)})
		before := testutil.CountRecords(b, app, "notifications", nil)
		stopWriters := startWriters(b, app, srv, writers)
		start := time.Now()
		status, out := srv.Do(b, "PATCH", "/api/collections/events/records/"+ev.Id, testutil.Token(b, admin), map[string]any{"published": true})
		requestTook := time.Since(start)
		if status != 200 {
			b.Fatalf("publish: %d %s", status, out)
		}
		// the in-app notices come first (every chunk), the e-mails after
		noticesThere := waitForNotices(b, app, ev.Id, members+writers*(i+1), start)
		salon.WaitBackground(app)
		allThere := time.Since(start)
		writes := stopWriters()
		written := testutil.CountRecords(b, app, "notifications", nil) - before
		queued := testutil.CountRecords(b, app, "email_outbox", dbx.HashExp{"status": "pending"})
		// the writers are members too, with unverified addresses (no e-mail)
		if written != members+writers*(i+1) || queued != members {
			b.Fatalf("written %d notifications, queued %d e-mails; want %d each", written, queued, members)
		}

		drainStart := time.Now()
		sent, failed, err := notify.DeliverOutbox(app, time.Now())
		if err != nil || sent != members || failed != 0 {
			b.Fatalf("deliver: sent %d failed %d err %v", sent, failed, err)
		}
		ms.WaitFor(b, members*(i+1))
		drain := time.Since(drainStart)

		for _, rt := range subs {
			if ev, ok := rt.Next(10 * time.Second); !ok || ev.Topic != "notifications/*" && ev.Topic != "notifications" {
				b.Fatalf("an online member got no realtime notification: %v %s", ok, ev.Topic)
			}
		}
		b.ReportMetric(float64(requestTook.Milliseconds()), "publish-request-ms")
		b.ReportMetric(noticesThere.Seconds(), "s-until-all-notifications")
		b.ReportMetric(allThere.Seconds(), "s-until-all-emails-queued")
		b.ReportMetric(float64(written), "notifications")
		b.ReportMetric(float64(queued), "emails-queued")
		b.ReportMetric(float64(members)/drain.Seconds(), "emails/s-over-smtp")
		b.ReportMetric(float64(len(writes)), "writes-meanwhile")
		if len(writes) > 0 {
			slices.Sort(writes)
			b.ReportMetric(testutil.Ms(writes[len(writes)/2]), "write-p50-ms")
			b.ReportMetric(testutil.Ms(writes[len(writes)*99/100]), "write-p99-ms")
		}
	}
}

// waitForNotices polls until event's announcement has written want
// notices and returns the time since start.
func waitForNotices(b *testing.B, app core.App, event string, want int, start time.Time) time.Duration {
	b.Helper()
	for {
		n := testutil.CountRecords(b, app, "notifications", dbx.HashExp{"source_id": event})
		if n >= want {
			return time.Since(start)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// insertMembers adds n verified members quickly: one transaction and one
// password hash shared by all (hashing 10,000 passwords would dominate).
func insertMembers(b *testing.B, app core.App, n int) {
	b.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(testutil.DefaultPassword), bcrypt.MinCost)
	if err != nil {
		b.Fatal(err)
	}
	users, err := app.FindCollectionByNameOrId("users")
	if err != nil {
		b.Fatal(err)
	}
	rank, err := salon.LowestRankID(app)
	if err != nil {
		b.Fatal(err)
	}
	err = app.RunInTransaction(func(tx core.App) error {
		for i := 0; i < n; i++ {
			r := core.NewRecord(users)
			r.SetEmail(fmt.Sprintf("bench%05d@example.com", i))
			r.SetRaw("password", string(hash))
			r.SetVerified(true)
			r.Set("name", fmt.Sprintf("Bench %d", i))
			r.Set("rank", rank)
			r.Set("role", "member")
			r.Set("lang", []string{"en", "ja"}[i%2])
			if err := tx.SaveNoValidate(r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// startWriters has n other members post room messages over HTTP one after
// another, each 20 ms after its previous answer, until stop is called;
// stop returns every post's latency.
func startWriters(b *testing.B, app core.App, srv *testutil.Server, n int) (stop func() []time.Duration) {
	b.Helper()
	room := testutil.NewRoom(b, app, map[string]any{"name": "Lobby"})
	var (
		mu   sync.Mutex
		lat  []time.Duration
		wg   sync.WaitGroup
		done = make(chan struct{})
	)
	for i := 0; i < n; i++ {
		token := testutil.Token(b, testutil.CreateUser(b, app, testutil.User{}))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; ; k++ {
				select {
				case <-done:
					return
				case <-time.After(20 * time.Millisecond):
				}
				t0 := time.Now()
				status, _ := srv.Do(b, http.MethodPost, testutil.MessagesURL, token, map[string]any{"room": room.Id, "body": fmt.Sprintf("meanwhile %d", k)})
				took := time.Since(t0)
				if status != http.StatusOK {
					b.Errorf("a post during the announcement: %d", status)
					return
				}
				mu.Lock()
				lat = append(lat, took)
				mu.Unlock()
			}
		}()
	}
	return func() []time.Duration {
		close(done)
		wg.Wait()
		return lat
	}
}
