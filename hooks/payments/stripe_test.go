package payments_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"

	"salonbase/hooks/payments"
	"salonbase/testutil"
)

// checkout buys through the real route and returns the pending order.
func checkout(t *testing.T, srv *testutil.Server, app core.App, user *core.Record, product string, quantity int) *core.Record {
	t.Helper()
	status, body := srv.Do(t, http.MethodPost, "/api/salon/shop/checkout", testutil.Token(t, user), map[string]any{"product": product, "quantity": quantity})
	if status != http.StatusOK {
		t.Fatalf("checkout: %d %s", status, body)
	}
	order, err := app.FindRecordById("orders", testutil.Decode[map[string]any](t, body)["order"].(string))
	if err != nil {
		t.Fatal(err)
	}
	return order
}

// session is the Checkout Session object of a webhook event for order.
func session(order *core.Record, status, paymentStatus string, amount int64, withMetadata bool) map[string]any {
	s := map[string]any{
		"id": order.GetString("stripe_session"), "object": "checkout.session",
		"status": status, "payment_status": paymentStatus,
		"amount_total": amount, "currency": order.GetString("currency"),
		"client_reference_id": order.Id,
		"payment_intent":      "pi_" + order.Id,
	}
	if withMetadata {
		s["metadata"] = map[string]string{"salon_kind": "orders", "salon_id": order.Id}
	}
	return s
}

func countNotes(t *testing.T, app core.App, user, kind string) int {
	t.Helper()
	n, err := app.CountRecords("notifications", testutil.DbxHash("user", user), testutil.DbxHash("kind", kind))
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

// attention checks that an admin has a payment_attention notice with this
// title and body.
func attention(t *testing.T, app core.App, admin *core.Record, title, body string) {
	t.Helper()
	_, err := app.FindFirstRecordByFilter("notifications", "user = {:u} && kind = 'payment_attention' && title = {:t} && body = {:b}",
		dbx.Params{"u": admin.Id, "t": title, "b": body})
	if err != nil {
		notes, _ := app.FindAllRecords("notifications", dbx.HashExp{"user": admin.Id, "kind": "payment_attention"})
		for _, n := range notes {
			t.Logf("has %q / %q", n.GetString("title"), n.GetString("body"))
		}
		t.Fatalf("admin in %q: no notice %q / %q", admin.GetString("lang"), title, body)
	}
}

func TestStripeWebhook(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	testutil.EnablePayments(t, app)
	srv := testutil.Serve(t, app)
	seller := testutil.CreateUser(t, app, testutil.User{Name: "Seller"})
	admin := testutil.CreateUser(t, app, testutil.User{Role: "admin"})
	adminJa := testutil.Member(t, app, testutil.User{Role: "admin"}, "ja")
	buyers := make([]*core.Record, 5)
	for i := range buyers {
		buyers[i] = testutil.CreateUser(t, app, testutil.User{})
	}
	mug := testutil.NewProduct(t, app, map[string]any{"stock": 10, "seller": seller.Id})
	stock := func() int { return testutil.Reload(t, app, mug).GetInt("stock") }
	post := func(payload []byte) (int, string) {
		status, body := testutil.PostWebhook(t, srv, payload, testutil.TestWebhookSecret, time.Now())
		return status, string(body)
	}

	order := checkout(t, srv, app, buyers[0], mug.Id, 2)
	if stock() != 8 {
		t.Fatalf("stock after checkout: %d", stock())
	}
	completed := testutil.StripeEvent("checkout.session.completed", session(order, "complete", "paid", 3000, true))

	// forged, unsigned and stale deliveries change nothing
	if status, body := testutil.PostWebhook(t, srv, completed, "whsec_forged", time.Now()); status != http.StatusBadRequest || !strings.Contains(string(body), "signature") {
		t.Fatalf("forged signature: %d %s", status, body)
	}
	if status, body := srv.Do(t, http.MethodPost, "/api/salon/stripe/webhook", "", string(completed)); status != http.StatusBadRequest {
		t.Fatalf("unsigned: %d %s", status, body)
	}
	if status, body := testutil.PostWebhook(t, srv, completed, testutil.TestWebhookSecret, time.Now().Add(-10*time.Minute)); status != http.StatusBadRequest || !strings.Contains(string(body), "timestamp") {
		t.Fatalf("stale timestamp: %d %s", status, body)
	}
	tampered := []byte(strings.Replace(string(completed), `"amount_total":3000`, `"amount_total":3001`, 1))
	signed := testutil.PostWebhookHeader(t, completed)
	if status, _ := testutil.PostRaw(t, srv, tampered, signed); status != http.StatusBadRequest {
		t.Fatalf("body changed after signing: %d", status)
	}
	if testutil.Reload(t, app, order).GetString("status") != "pending" {
		t.Fatal("a rejected webhook changed the order")
	}

	// valid: paid, buyer and seller notified once
	if status, body := post(completed); status != http.StatusOK || !strings.Contains(body, `"outcome":"paid"`) {
		t.Fatalf("valid webhook: %d %s", status, body)
	}
	paid := testutil.Reload(t, app, order)
	if paid.GetString("status") != "paid" || paid.GetDateTime("paid_at").IsZero() || paid.GetString("stripe_payment_intent") != "pi_"+order.Id {
		t.Fatalf("paid order: %v", paid.PublicExport())
	}
	if countNotes(t, app, buyers[0].Id, "order_paid") != 1 || countNotes(t, app, seller.Id, "order_sold") != 1 {
		t.Fatal("buyer and seller must be notified once")
	}

	// replayed: the same event again changes nothing
	if status, body := post(completed); status != http.StatusOK || !strings.Contains(body, "duplicate") {
		t.Fatalf("replay: %d %s", status, body)
	}
	// duplicated: another event about the same payment changes nothing
	succeeded := testutil.StripeEvent("payment_intent.succeeded", map[string]any{
		"id": "pi_" + order.Id, "object": "payment_intent", "amount": 3000, "amount_received": 3000, "currency": "jpy",
		"status": "succeeded", "metadata": map[string]string{"salon_kind": "orders", "salon_id": order.Id},
	})
	if status, body := post(succeeded); status != http.StatusOK || !strings.Contains(body, "already paid") {
		t.Fatalf("duplicate payment event: %d %s", status, body)
	}
	// out of order: a late "expired" never undoes the payment nor returns stock
	if status, body := post(testutil.StripeEvent("checkout.session.expired", session(order, "expired", "unpaid", 3000, true))); status != http.StatusOK {
		t.Fatalf("late expired: %d %s", status, body)
	}
	if testutil.Reload(t, app, order).GetString("status") != "paid" || stock() != 8 {
		t.Fatalf("late expired undid the payment: %s, stock %d", testutil.Reload(t, app, order).GetString("status"), stock())
	}
	if countNotes(t, app, buyers[0].Id, "order_paid") != 1 {
		t.Fatal("duplicates notified the buyer again")
	}
	if n, _ := app.CountRecords("stripe_events"); n != 3 {
		t.Fatalf("recorded events: %d", n)
	}

	// refunds: Stripe sends the running total; an older event never lowers it
	refund := func(amount int64) []byte {
		return testutil.StripeEvent("charge.refunded", map[string]any{
			"id": "ch_" + order.Id, "object": "charge", "amount": 3000, "amount_refunded": amount, "currency": "jpy",
			"payment_intent": "pi_" + order.Id, "refunded": amount == 3000,
		})
	}
	partial, full := refund(1000), refund(3000)
	post(partial)
	if r := testutil.Reload(t, app, order); r.GetString("status") != "paid" || r.GetInt("refunded_amount") != 1000 {
		t.Fatalf("partial refund: %v", r.PublicExport())
	}
	post(full)
	post(refund(1000)) // a delayed copy of an older refund event
	if r := testutil.Reload(t, app, order); r.GetString("status") != "refunded" || r.GetInt("refunded_amount") != 3000 {
		t.Fatalf("full refund: %v", r.PublicExport())
	}

	// out of order the other way: expired (found by session id, no
	// metadata) then a late completed: paid, stock taken again, admins told
	late := checkout(t, srv, app, buyers[1], mug.Id, 1)
	post(testutil.StripeEvent("checkout.session.expired", session(late, "expired", "unpaid", 1500, false)))
	if testutil.Reload(t, app, late).GetString("status") != "expired" || stock() != 8 {
		t.Fatalf("expired: %s, stock %d", testutil.Reload(t, app, late).GetString("status"), stock())
	}
	post(testutil.StripeEvent("checkout.session.completed", session(late, "complete", "paid", 1500, false)))
	if r := testutil.Reload(t, app, late); r.GetString("status") != "paid" || !strings.Contains(r.GetString("note"), "after the reservation") || stock() != 7 {
		t.Fatalf("late payment: %v stock %d", r.PublicExport(), stock())
	}
	if countNotes(t, app, admin.Id, "payment_attention") != 1 {
		t.Fatal("admins must hear of a late payment")
	}
	// each admin in their language
	attention(t, app, admin, "Late payment on an order", "Paid after the reservation was released (expired).")
	attention(t, app, adminJa, "注文の予約終了後に支払いがありました", "予約が終わった後（期限切れ）に支払われました。")

	// amount or currency not what we asked: not paid, stock back, admins told
	wrong := checkout(t, srv, app, buyers[2], mug.Id, 1)
	post(testutil.StripeEvent("checkout.session.completed", session(wrong, "complete", "paid", 1, true)))
	if r := testutil.Reload(t, app, wrong); r.GetString("status") != "failed" || !strings.Contains(r.GetString("note"), "1 JPY") || stock() != 7 {
		t.Fatalf("amount mismatch: %v stock %d", r.PublicExport(), stock())
	}
	if countNotes(t, app, buyers[2].Id, "order_paid") != 0 || countNotes(t, app, admin.Id, "payment_attention") != 2 {
		t.Fatal("a mismatched payment must not count as paid")
	}
	attention(t, app, admin, "Payment mismatch on an order", "Stripe reported 1 JPY, expected 1500 JPY.")
	attention(t, app, adminJa, "注文の支払額が一致しません", "Stripeの報告額は1 JPY、請求額は1500 JPYです。")

	// delayed payment methods: completed but unpaid keeps the reservation
	// until the async result
	konbini := checkout(t, srv, app, buyers[3], mug.Id, 1)
	post(testutil.StripeEvent("checkout.session.completed", session(konbini, "complete", "unpaid", 1500, true)))
	if r := testutil.Reload(t, app, konbini); r.GetString("status") != "pending" || !r.GetDateTime("expires_at").IsZero() {
		t.Fatalf("awaiting payment: %v", r.PublicExport())
	}
	post(testutil.StripeEvent("checkout.session.async_payment_succeeded", session(konbini, "complete", "paid", 1500, true)))
	if testutil.Reload(t, app, konbini).GetString("status") != "paid" || stock() != 6 {
		t.Fatalf("async payment: %s stock %d", testutil.Reload(t, app, konbini).GetString("status"), stock())
	}
	failing := checkout(t, srv, app, buyers[4], mug.Id, 1)
	post(testutil.StripeEvent("checkout.session.async_payment_failed", session(failing, "complete", "unpaid", 1500, true)))
	if testutil.Reload(t, app, failing).GetString("status") != "failed" || stock() != 6 {
		t.Fatalf("async failure: %s stock %d", testutil.Reload(t, app, failing).GetString("status"), stock())
	}

	// the same event delivered twice at once: applied exactly once
	twice := checkout(t, srv, app, testutil.CreateUser(t, app, testutil.User{}), mug.Id, 1)
	ev := testutil.StripeEvent("checkout.session.completed", session(twice, "complete", "paid", 1500, true))
	outcomes := make(chan string, 2)
	for range 2 {
		go func() {
			status, body := testutil.PostWebhook(t, srv, ev, testutil.TestWebhookSecret, time.Now())
			outcomes <- fmt.Sprint(status, " ", string(body))
		}()
	}
	a, b := <-outcomes, <-outcomes
	if !(strings.Contains(a+b, `"outcome":"paid"`) && strings.Contains(a+b, `"outcome":"duplicate"`)) {
		t.Fatalf("concurrent duplicates: %s | %s", a, b)
	}
	if countNotes(t, app, twice.GetString("user"), "order_paid") != 1 {
		t.Fatal("a concurrent duplicate notified twice")
	}

	// events about things we do not sell are acknowledged and ignored
	if status, body := post(testutil.StripeEvent("customer.created", map[string]any{"id": "cus_1", "object": "customer"})); status != http.StatusOK || !strings.Contains(body, "ignored") {
		t.Fatalf("unrelated event: %d %s", status, body)
	}
}

func TestStripeKeysFromEnvironment(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	mock := testutil.StartStripeMock(t, app, nil)
	srv := testutil.Serve(t, app)
	testutil.UpdateSettings(t, app, map[string]any{"stripe_webhook_secret": testutil.TestWebhookSecret})
	// the operator's environment: the keys there win over the settings
	env := map[string]string{
		"STRIPE_SECRET_KEY":     testutil.TestSecretKey,
		"STRIPE_WEBHOOK_SECRET": "whsec_from_env",
		"STRIPE_API_BASE":       mock,
	}
	payments.Configure(app, payments.ConfigFromEnv(func(k string) string { return env[k] }))
	buyer := testutil.CreateUser(t, app, testutil.User{})
	order := checkout(t, srv, app, buyer, testutil.NewProduct(t, app, nil).Id, 1) // key from the environment only

	ev := testutil.StripeEvent("checkout.session.completed", session(order, "complete", "paid", 1500, true))
	if status, _ := testutil.PostWebhook(t, srv, ev, testutil.TestWebhookSecret, time.Now()); status != http.StatusBadRequest {
		t.Fatalf("the settings secret must lose to the environment: %d", status)
	}
	if status, body := testutil.PostWebhook(t, srv, ev, "whsec_from_env", time.Now()); status != http.StatusOK {
		t.Fatalf("environment secret: %d %s", status, body)
	}
	if testutil.Reload(t, app, order).GetString("status") != "paid" {
		t.Fatal("order not paid")
	}
}

func TestStripeReconcile(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	testutil.EnablePayments(t, app)
	srv := testutil.Serve(t, app)
	admin := testutil.CreateUser(t, app, testutil.User{Role: "admin"})
	member := testutil.CreateUser(t, app, testutil.User{})
	other := testutil.CreateUser(t, app, testutil.User{})
	mug := testutil.NewProduct(t, app, map[string]any{"stock": 10})

	stale := checkout(t, srv, app, member, mug.Id, 2) // its webhook never came
	fresh := checkout(t, srv, app, other, mug.Id, 1)
	stale.Set("expires_at", types.NowDateTime().Add(-time.Minute))
	if err := app.Save(stale); err != nil {
		t.Fatal(err)
	}
	// an order whose checkout crashed before Stripe answered, long ago
	orphan := checkout(t, srv, app, admin, mug.Id, 1)
	if _, err := app.DB().NewQuery("UPDATE orders SET stripe_session = '', created = {:c} WHERE id = {:id}").
		Bind(map[string]any{"c": types.NowDateTime().Add(-time.Hour).String(), "id": orphan.Id}).Execute(); err != nil {
		t.Fatal(err)
	}
	if testutil.Reload(t, app, mug).GetInt("stock") != 6 {
		t.Fatalf("stock before: %d", testutil.Reload(t, app, mug).GetInt("stock"))
	}

	for token, want := range map[string]int{testutil.Token(t, member): 403, "": 401} {
		if status, _ := srv.Do(t, http.MethodPost, "/api/salon/stripe/reconcile", token, nil); status != want {
			t.Fatalf("reconcile by a non-admin: want %d got %d", want, status)
		}
	}
	status, body := srv.Do(t, http.MethodPost, "/api/salon/stripe/reconcile", testutil.Token(t, admin), nil)
	if status != http.StatusOK {
		t.Fatalf("reconcile: %d %s", status, body)
	}
	rep := testutil.Decode[map[string]any](t, body)
	if rep["checked"] != float64(3) || rep["released"] != float64(2) || rep["paid"] != float64(0) {
		t.Fatalf("report: %s", body)
	}
	if testutil.Reload(t, app, stale).GetString("status") != "expired" || testutil.Reload(t, app, orphan).GetString("status") != "failed" ||
		testutil.Reload(t, app, fresh).GetString("status") != "pending" || testutil.Reload(t, app, mug).GetInt("stock") != 9 {
		t.Fatalf("after reconcile: stale %s orphan %s fresh %s stock %d", testutil.Reload(t, app, stale).GetString("status"),
			testutil.Reload(t, app, orphan).GetString("status"), testutil.Reload(t, app, fresh).GetString("status"), testutil.Reload(t, app, mug).GetInt("stock"))
	}
}

// A payment whose webhook was lost is found by asking Stripe: stripe-mock
// answers with a paid session for the order.
func TestStripeReconcileFindsMissedPayment(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	testutil.StartStripeMock(t, app, map[string]any{"status": "complete", "payment_status": "paid", "amount_total": 4500, "currency": "jpy"})
	testutil.UpdateSettings(t, app, map[string]any{"stripe_secret_key": testutil.TestSecretKey})
	srv := testutil.Serve(t, app)
	admin := testutil.CreateUser(t, app, testutil.User{Role: "admin"})
	buyer := testutil.CreateUser(t, app, testutil.User{})
	order := checkout(t, srv, app, buyer, testutil.NewProduct(t, app, nil).Id, 3)

	status, body := srv.Do(t, http.MethodPost, "/api/salon/stripe/reconcile", testutil.Token(t, admin), nil)
	if status != http.StatusOK || testutil.Decode[map[string]any](t, body)["paid"] != float64(1) {
		t.Fatalf("reconcile: %d %s", status, body)
	}
	if testutil.Reload(t, app, order).GetString("status") != "paid" || countNotes(t, app, buyer.Id, "order_paid") != 1 {
		t.Fatalf("missed payment not settled: %v", testutil.Reload(t, app, order).PublicExport())
	}
	// running it again changes nothing
	status, body = srv.Do(t, http.MethodPost, "/api/salon/stripe/reconcile", testutil.Token(t, admin), nil)
	if status != http.StatusOK || testutil.Decode[map[string]any](t, body)["checked"] != float64(0) || countNotes(t, app, buyer.Id, "order_paid") != 1 {
		t.Fatalf("second run: %d %s", status, body)
	}
}

// When Stripe cannot be reached, reservations long past their Checkout
// expiry still give their stock back; recent ones wait for Stripe.
func TestStripeReconcileWhileStripeIsDown(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	testutil.EnablePayments(t, app)
	srv := testutil.Serve(t, app)
	admin := testutil.CreateUser(t, app, testutil.User{Role: "admin"})
	mug := testutil.NewProduct(t, app, map[string]any{"stock": 10})
	old := checkout(t, srv, app, testutil.CreateUser(t, app, testutil.User{}), mug.Id, 2)
	recent := checkout(t, srv, app, testutil.CreateUser(t, app, testutil.User{}), mug.Id, 1)
	old.Set("expires_at", types.NowDateTime().Add(-2*time.Hour))
	recent.Set("expires_at", types.NowDateTime().Add(-time.Minute))
	for _, r := range []*core.Record{old, recent} {
		if err := app.Save(r); err != nil {
			t.Fatal(err)
		}
	}

	testutil.StripeDown(t, app)

	status, body := srv.Do(t, http.MethodPost, "/api/salon/stripe/reconcile", testutil.Token(t, admin), nil)
	if status != http.StatusOK {
		t.Fatalf("reconcile: %d %s", status, body)
	}
	rep := testutil.Decode[map[string]any](t, body)
	if rep["released"] != float64(1) || len(rep["errors"].([]any)) != 1 {
		t.Fatalf("report: %s", body)
	}
	if testutil.Reload(t, app, old).GetString("status") != "expired" || testutil.Reload(t, app, recent).GetString("status") != "pending" || testutil.Reload(t, app, mug).GetInt("stock") != 9 {
		t.Fatalf("old %s recent %s stock %d", testutil.Reload(t, app, old).GetString("status"), testutil.Reload(t, app, recent).GetString("status"), testutil.Reload(t, app, mug).GetInt("stock"))
	}
}

// Stripe refuses a Checkout Session that expires sooner than 30 minutes or
// later than 24 hours after it is created.
func TestCheckoutExpiresAt(t *testing.T) {
	t.Parallel()
	now := time.Now()
	for name, c := range map[string]struct {
		local    time.Time
		earliest time.Duration
	}{
		"exactly 30 minutes": {now.Add(30 * time.Minute), 30 * time.Minute},
		"already past":       {now.Add(-time.Hour), 30 * time.Minute},
		"two hours":          {now.Add(2 * time.Hour), 2 * time.Hour},
		"a day":              {now.Add(24 * time.Hour), 23 * time.Hour},
	} {
		got := time.Unix(payments.CheckoutExpiresAt(c.local), 0).Sub(now)
		if got < c.earliest || got > 24*time.Hour {
			t.Errorf("%s: expires %v from now", name, got)
		}
	}
}

// Stripe does not promise event order: a full refund delivered before its
// payment ends where payment-then-refund ends (refunded, the full amount
// counted), not as a paid order with its money returned.
func TestRefundBeforePayment(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	testutil.EnablePayments(t, app)
	srv := testutil.Serve(t, app)
	buyer := testutil.CreateUser(t, app, testutil.User{})
	mug := testutil.NewProduct(t, app, map[string]any{"stock": 10})
	post := func(payload []byte) string {
		t.Helper()
		status, body := testutil.PostWebhook(t, srv, payload, testutil.TestWebhookSecret, time.Now())
		if status != http.StatusOK {
			t.Fatalf("webhook: %d %s", status, body)
		}
		return string(body)
	}
	order := checkout(t, srv, app, buyer, mug.Id, 2)
	post(testutil.StripeEvent("charge.refunded", map[string]any{
		"id": "ch_" + order.Id, "object": "charge", "amount": 3000, "amount_refunded": 3000, "currency": "jpy",
		"payment_intent": "pi_" + order.Id, "refunded": true,
		"metadata": map[string]string{"salon_kind": "orders", "salon_id": order.Id},
	}))
	post(testutil.StripeEvent("checkout.session.completed", session(order, "complete", "paid", 3000, true)))
	r := testutil.Reload(t, app, order)
	if r.GetString("status") != "refunded" || r.GetInt("refunded_amount") != 3000 || r.GetDateTime("paid_at").IsZero() {
		t.Fatalf("refund then payment: %s, refunded %d", r.GetString("status"), r.GetInt("refunded_amount"))
	}
	// a refund does not return stock (as after payment-then-refund)
	if got := testutil.Reload(t, app, mug).GetInt("stock"); got != 8 {
		t.Fatalf("stock: %d, want 8", got)
	}
}
