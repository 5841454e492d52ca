package payments_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"

	"salonbase/testutil"
)

// A refund made in the Stripe dashboard carries none of our metadata, and
// Stripe may deliver it before the payment. Whatever order the payment, a
// partial and a full refund arrive in, an order and a tip end in the same
// state: refunded, the full amount counted, paid_at set, stock not
// returned.
func TestRefundsWithoutMetadataInEveryOrder(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	testutil.EnablePayments(t, app)
	srv := testutil.Serve(t, app)
	buyer := testutil.CreateUser(t, app, testutil.User{Rank: "Gold"})
	host := testutil.CreateUser(t, app, testutil.User{Role: "tutor"})
	mug := testutil.NewProduct(t, app, map[string]any{"stock": 100})
	stream := newStream(t, app, map[string]any{"host": host.Id, "title": "Live", "status": "live", "tips_enabled": true})

	post := func(payload []byte) {
		t.Helper()
		if status, body := testutil.PostWebhook(t, srv, payload, testutil.TestWebhookSecret, time.Now()); status != http.StatusOK {
			t.Fatalf("webhook: %d %s", status, body)
		}
	}
	newTip := func() *core.Record {
		t.Helper()
		status, body := srv.Do(t, http.MethodPost, "/api/salon/live/"+stream.Id+"/tips", testutil.Token(t, buyer), map[string]any{"amount": 3000})
		if status != http.StatusOK {
			t.Fatalf("tip: %d %s", status, body)
		}
		tip, err := app.FindRecordById("tips", testutil.Decode[map[string]any](t, body)["tip"].(string))
		if err != nil {
			t.Fatal(err)
		}
		return tip
	}
	// the events of one payment of 3000 JPY (kind: orders or tips)
	events := func(kind string, r *core.Record, n int) map[string][]byte {
		pi := fmt.Sprintf("pi_%s_%d", r.Id, n)
		refund := func(id string, amount int64) []byte {
			return testutil.StripeEvent("charge.refunded", map[string]any{
				"id": "ch_" + r.Id, "object": "charge", "amount": 3000, "amount_refunded": amount,
				"currency": "jpy", "payment_intent": pi, "refunded": amount == 3000,
			})
		}
		return map[string][]byte{
			"pay": testutil.StripeEvent("checkout.session.completed", map[string]any{
				"id": r.GetString("stripe_session"), "object": "checkout.session", "status": "complete",
				"payment_status": "paid", "amount_total": 3000, "currency": "jpy", "payment_intent": pi,
				"metadata": map[string]string{"salon_kind": kind, "salon_id": r.Id},
			}),
			"partial": refund("partial", 1000),
			"full":    refund("full", 3000),
		}
	}
	orders := [][]string{
		{"pay", "partial", "full"}, {"pay", "full", "partial"}, {"partial", "pay", "full"},
		{"partial", "full", "pay"}, {"full", "pay", "partial"}, {"full", "partial", "pay"},
	}
	type end struct {
		status   string
		refunded int
		paid     bool
	}
	for i, order := range orders {
		for _, kind := range []string{"orders", "tips"} {
			var r *core.Record
			if kind == "orders" {
				r = checkout(t, srv, app, buyer, mug.Id, 2)
			} else {
				r = newTip()
			}
			ev := events(kind, r, i)
			for _, name := range order {
				post(ev[name])
			}
			r = testutil.Reload(t, app, r)
			got := end{r.GetString("status"), r.GetInt("refunded_amount"), !r.GetDateTime("paid_at").IsZero()}
			if want := (end{"refunded", 3000, true}); got != want {
				t.Errorf("%s, events %v: %+v, want %+v", kind, order, got, want)
			}
		}
	}
	// a partial refund alone, before or after: paid, 1000 counted
	for i, order := range [][]string{{"pay", "partial"}, {"partial", "pay"}} {
		r := checkout(t, srv, app, buyer, mug.Id, 2)
		ev := events("orders", r, 100+i)
		for _, name := range order {
			post(ev[name])
		}
		r = testutil.Reload(t, app, r)
		if r.GetString("status") != "paid" || r.GetInt("refunded_amount") != 1000 {
			t.Errorf("partial, events %v: %s, refunded %d", order, r.GetString("status"), r.GetInt("refunded_amount"))
		}
	}
	// a refund never returns stock: 8 orders of 2 taken from 100
	if got := testutil.Reload(t, app, mug).GetInt("stock"); got != 100-8*2 {
		t.Fatalf("stock %d, want %d", got, 100-8*2)
	}
}
