package payments_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"salonbase/testutil"
)

// BenchmarkShopCheckout: one checkout over HTTP, end to end (price,
// reservation transaction, Checkout Session at stripe-mock, order update).
func BenchmarkShopCheckout(b *testing.B) {
	app := testutil.NewApp(b)
	testutil.EnablePayments(b, app)
	srv := testutil.Serve(b, app)
	product := testutil.NewProduct(b, app, map[string]any{"unlimited": true, "max_per_order": 100})
	tokens := make([]string, 20)
	for i := range tokens {
		tokens[i] = testutil.Token(b, testutil.CreateUser(b, app, testutil.User{}))
	}
	b.ResetTimer()
	for i := range b.N {
		// a new (member, quantity) pair each time, so no checkout is resumed
		body := map[string]any{"product": product.Id, "quantity": (i/len(tokens))%100 + 1}
		if status, out := srv.Do(b, http.MethodPost, "/api/salon/shop/checkout", tokens[i%len(tokens)], body); status != http.StatusOK {
			b.Fatalf("checkout: %d %s", status, out)
		}
	}
}

// BenchmarkStripeWebhook: one signed checkout.session.completed over HTTP:
// signature check, idempotency record, order paid, buyer notified.
func BenchmarkStripeWebhook(b *testing.B) {
	app := testutil.NewApp(b)
	testutil.EnablePayments(b, app)
	srv := testutil.Serve(b, app)
	buyer := testutil.CreateUser(b, app, testutil.User{})
	product := testutil.NewProduct(b, app, map[string]any{"unlimited": true})
	orders, _ := app.FindCollectionByNameOrId("orders")
	events := make([][]byte, b.N)
	for i := range events {
		o := testutil.NewRecord(orders, map[string]any{"user": buyer.Id, "product": product.Id, "product_name": "Mug", "quantity": 1,
			"unit_amount": 1500, "amount": 1500, "currency": "jpy", "status": "pending", "stripe_session": fmt.Sprintf("cs_bench_%d", i)})
		if err := app.Save(o); err != nil {
			b.Fatal(err)
		}
		events[i] = testutil.StripeEvent("checkout.session.completed", session(o, "complete", "paid", 1500, true))
	}
	b.ResetTimer()
	for i := range b.N {
		if status, out := testutil.PostWebhook(b, srv, events[i], testutil.TestWebhookSecret, time.Now()); status != http.StatusOK {
			b.Fatalf("webhook: %d %s", status, out)
		}
	}
}
