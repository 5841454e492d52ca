package dm_test

import (
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/security"

	"salonbase/hooks/dm"
	"salonbase/testutil"
)

func TestDMAccessDecisions(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	member := testutil.CreateUser(t, app, testutil.User{})
	other := testutil.CreateUser(t, app, testutil.User{})
	admin := testutil.CreateUser(t, app, testutil.User{Role: "admin"})
	suspendedAdmin := testutil.CreateUser(t, app, testutil.User{Role: "admin", Suspended: true})

	for _, c := range []struct {
		name             string
		auth             *core.Record
		allowed, audited bool
	}{
		{"party", member, true, false},
		{"admin party", admin, true, false},
		{"third member", other, false, false},
		{"suspended admin", suspendedAdmin, false, false},
		{"anonymous", nil, false, false},
	} {
		sender, recipient := member.Id, "someone"
		if c.name == "admin party" {
			sender = admin.Id
		}
		allowed, audited := dm.DMReadAccess(c.auth, sender, recipient)
		if allowed != c.allowed || audited != c.audited {
			t.Errorf("%s: got (%v, %v), want (%v, %v)", c.name, allowed, audited, c.allowed, c.audited)
		}
	}
	if allowed, audited := dm.DMReadAccess(admin, member.Id, other.Id); !allowed || !audited {
		t.Error("an admin reads others' conversations, audited")
	}
	if f := dm.DMEditableFields(member.Id, member.Id, other.Id); fmt.Sprint(f) != "[sender_deleted]" {
		t.Errorf("sender may change %v", f)
	}
	if f := dm.DMEditableFields(other.Id, member.Id, other.Id); fmt.Sprint(f) != "[read_at recipient_deleted]" {
		t.Errorf("recipient may change %v", f)
	}
	if f := dm.DMEditableFields(admin.Id, member.Id, other.Id); f != nil {
		t.Errorf("a non-party may change %v", f)
	}
}

// ---------------------------------------------------------------------------
// Benchmarks (figures in BENCHMARKS.md). Run with:
//   go test ./hooks/dm -run '^$' -bench BenchmarkDM -benchtime 2s
// ---------------------------------------------------------------------------

const dmBenchMessages = 100_000

// dmBench is a served app with 1,000 members and 100k messages, of which
// the member "me" received about 2,500 and sent about 2,500.
type dmBench struct {
	app     core.App
	srv     *testutil.Server
	me, to  *core.Record
	meToken string
}

func newDMBench(b *testing.B) *dmBench {
	b.Helper()
	app := testutil.NewApp(b)
	srv := testutil.Serve(b, app)
	me := testutil.CreateUser(b, app, testutil.User{Name: "Me"})
	to := testutil.CreateUser(b, app, testutil.User{Name: "Friend"})

	// raw SQL in one transaction: creating 100k records through the API
	// would take minutes and measure the seeding, not the reads
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	err := app.RunInTransaction(func(tx core.App) error {
		members := []string{me.Id, to.Id}
		addUser := tx.DB().NewQuery(`INSERT INTO users (id, email, password, tokenKey, name, rank, role)
			VALUES ({:id}, {:email}, 'x', {:token}, {:name}, '', 'member')`).Prepare()
		defer addUser.Close()
		for i := 0; i < 998; i++ {
			id := security.RandomStringWithAlphabet(15, alphabet)
			if _, err := addUser.Bind(dbx.Params{"id": id, "email": id + "@example.com",
				"token": security.RandomString(30), "name": "Bench " + id}).Execute(); err != nil {
				return err
			}
			members = append(members, id)
		}

		addMsg := tx.DB().NewQuery(`INSERT INTO dm_messages (id, sender, recipient, subject, body, read_at, created, updated)
			VALUES ({:id}, {:s}, {:r}, 'Subject', 'A message body of a typical length for a direct message.', {:read}, {:at}, {:at})`).Prepare()
		defer addMsg.Close()
		start := time.Now().Add(-dmBenchMessages * time.Minute)
		for i := 0; i < dmBenchMessages; i++ {
			s, r := members[2+(i*7)%998], members[2+(i*13+1)%998]
			switch i % 40 { // me takes part in 1 of 20 messages
			case 0:
				r = me.Id
			case 1:
				s = me.Id
			}
			if s == r {
				r = to.Id
			}
			at := start.Add(time.Duration(i) * time.Minute).UTC().Format("2006-01-02 15:04:05.000Z")
			read := ""
			if i%3 != 0 {
				read = at
			}
			if _, err := addMsg.Bind(dbx.Params{"id": security.RandomStringWithAlphabet(15, alphabet),
				"s": s, "r": r, "read": read, "at": at}).Execute(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatalf("seed: %v", err)
	}
	// reopen the database as a restart would, so the benchmark starts from
	// fresh connections rather than the seeding connection's state
	if err := app.ClearBootstrap(); err != nil {
		b.Fatal(err)
	}
	if err := app.Bootstrap(); err != nil {
		b.Fatal(err)
	}
	app.Settings().RateLimits.Enabled = false // reloaded by Bootstrap; all requests share one IP
	return &dmBench{app: app, srv: srv, me: me, to: to, meToken: testutil.Token(b, me)}
}

func (d *dmBench) get(b *testing.B, path string) {
	if status, body := d.srv.Do(b, http.MethodGet, path, d.meToken, nil); status != 200 {
		b.Fatalf("%s: %d %s", path, status, body)
	}
}

func BenchmarkDMSend(b *testing.B) {
	d := newDMBench(b)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		status, body := d.srv.Do(b, http.MethodPost, dmURL, d.meToken, map[string]any{
			"recipient": d.to.Id, "subject": "Bench", "body": "Throughput test", "client_id": fmt.Sprintf("b-%d", i),
		})
		if status != 200 {
			b.Fatalf("send: %d %s", status, body)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

func BenchmarkDMSendParallel(b *testing.B) {
	d := newDMBench(b)
	b.SetParallelism(4) // 4×GOMAXPROCS concurrent senders
	var seq atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := seq.Add(1)
			status, body := d.srv.Do(b, http.MethodPost, dmURL, d.meToken, map[string]any{
				"recipient": d.to.Id, "body": "Throughput test", "client_id": fmt.Sprintf("p-%d", id),
			})
			if status != 200 {
				b.Errorf("send: %d %s", status, body)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

func BenchmarkDMInbox(b *testing.B) {
	d := newDMBench(b)
	inbox := dmURL + "?perPage=30&sort=-created&filter=" + testutil.Urlq("recipient = '"+d.me.Id+"'")
	b.Run("page1", func(b *testing.B) {
		for b.Loop() {
			d.get(b, inbox)
		}
	})
	b.Run("page1-skipTotal", func(b *testing.B) {
		for b.Loop() {
			d.get(b, inbox+"&skipTotal=1")
		}
	})
	b.Run("page50", func(b *testing.B) {
		for b.Loop() {
			d.get(b, inbox+"&page=50&skipTotal=1")
		}
	})
	b.Run("conversations", func(b *testing.B) {
		for b.Loop() {
			d.get(b, "/api/salon/dm/conversations")
		}
	})
	b.Run("unread", func(b *testing.B) {
		for b.Loop() {
			d.get(b, "/api/salon/dm/unread")
		}
	})
}
