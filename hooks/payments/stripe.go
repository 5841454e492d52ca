package payments

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"
	"github.com/pocketbase/pocketbase/tools/types"
	"github.com/stripe/stripe-go/v85"
	"github.com/stripe/stripe-go/v85/webhook"

	"salonbase/hooks/salon"
)

// Stripe: client setup, the webhook, and reconciliation. Orders (shop.go)
// and tips (tips.go) are both "payables": a record with status, amount,
// currency, stripe_session and stripe_payment_intent, settled here by the
// same state machine whether the news comes from a webhook or from asking
// Stripe.

// errPaymentsOff is the answer of every payment route while no Stripe key is
// configured; the rest of the salon works as usual.
var errPaymentsOff = &router.ApiError{Status: http.StatusServiceUnavailable, Message: "payments are not configured",
	Data: map[string]any{"reason": map[string]string{"code": "payments_off", "message": "payments are not configured"}}}

// stripeKeys are the Stripe credentials in effect: the app's Config (from
// the environment) wins over salon_settings so that operators can keep
// secrets out of the database.
type stripeKeys struct {
	Secret        string
	WebhookSecret string
}

func loadStripeKeys(app core.App) (stripeKeys, error) {
	c := ConfigOf(app)
	k := stripeKeys{Secret: c.SecretKey, WebhookSecret: c.WebhookSecret}
	if k.Secret != "" && k.WebhookSecret != "" {
		return k, nil
	}
	s, err := salon.Settings(app)
	if err != nil {
		return k, err
	}
	if k.Secret == "" {
		if k.Secret, err = salon.DecryptSecret(app, s.GetString("stripe_secret_key")); err != nil {
			return k, fmt.Errorf("stripe_secret_key: %w", err)
		}
	}
	if k.WebhookSecret == "" {
		if k.WebhookSecret, err = salon.DecryptSecret(app, s.GetString("stripe_webhook_secret")); err != nil {
			return k, fmt.Errorf("stripe_webhook_secret: %w", err)
		}
	}
	return k, nil
}

// stripeClient returns a Stripe client for key, talking to base (another API
// server, such as stripe-mock) when it is set.
func stripeClient(key, base string) *stripe.Client {
	if base == "" {
		return stripe.NewClient(key)
	}
	b := stripe.GetBackendWithConfig(stripe.APIBackend, &stripe.BackendConfig{
		URL:               stripe.String(base),
		MaxNetworkRetries: stripe.Int64(1),
		LeveledLogger:     &stripe.LeveledLogger{Level: stripe.LevelError},
	})
	return stripe.NewClient(key, stripe.WithBackends(&stripe.Backends{API: b, Connect: b, Uploads: b, MeterEvents: b}))
}

// paymentsClient is the client for payment routes, or errPaymentsOff.
func paymentsClient(app core.App) (*stripe.Client, error) {
	k, err := loadStripeKeys(app)
	if err != nil {
		return nil, err
	}
	if k.Secret == "" {
		return nil, errPaymentsOff
	}
	return stripeClient(k.Secret, ConfigOf(app).APIBase), nil
}

// stripeTimeout bounds every call to Stripe so a slow API never pins a
// request (or the reconciliation job) for long.
const stripeTimeout = 20 * time.Second

// ---------------------------------------------------------------------------
// Currencies
// ---------------------------------------------------------------------------

// Amounts are stored as Stripe counts them: in the currency's smallest unit.
// Zero-decimal currencies (JPY, KRW …) have no minor unit, so 1500 is ¥1,500;
// three-decimal ones must be multiples of 10. See
// https://docs.stripe.com/currencies#zero-decimal.
var zeroDecimal = map[string]bool{
	"bif": true, "clp": true, "djf": true, "gnf": true, "jpy": true, "kmf": true, "krw": true, "mga": true,
	"pyg": true, "rwf": true, "ugx": true, "vnd": true, "vuv": true, "xaf": true, "xof": true, "xpf": true,
}

var threeDecimal = map[string]bool{"bhd": true, "jod": true, "kwd": true, "omr": true, "tnd": true}

// CurrencyDecimals is the number of digits after the decimal point.
func CurrencyDecimals(currency string) int {
	c := strings.ToLower(currency)
	switch {
	case zeroDecimal[c]:
		return 0
	case threeDecimal[c]:
		return 3
	}
	return 2
}

// FormatAmount renders an amount in smallest units for people and CSV:
// FormatAmount(1500, "jpy") = "1500 JPY", FormatAmount(1999, "usd") = "19.99 USD".
func FormatAmount(amount int64, currency string) string {
	d := CurrencyDecimals(currency)
	cur := strings.ToUpper(currency)
	if d == 0 {
		return fmt.Sprintf("%d %s", amount, cur)
	}
	sign := ""
	if amount < 0 {
		sign, amount = "-", -amount
	}
	unit := int64(1)
	for range d {
		unit *= 10
	}
	return fmt.Sprintf("%s%d.%0*d %s", sign, amount/unit, d, amount%unit, cur)
}

// roundForCurrency rounds a computed amount (after a discount) to what
// Stripe accepts: whole units, and multiples of 10 for three-decimal
// currencies. It rounds half up.
func roundForCurrency(amount float64, currency string) int64 {
	step := 1.0
	if CurrencyDecimals(currency) == 3 {
		step = 10
	}
	return int64(amount/step+0.5) * int64(step)
}

// ---------------------------------------------------------------------------
// Payables: the state machine shared by orders and tips
// ---------------------------------------------------------------------------

// payable describes a collection paid through Stripe Checkout.
type payable struct {
	collection string
	// onPaid runs in the settling transaction when a record becomes paid
	// (notify people); onReleased when it gives back what it held.
	onPaid     func(tx core.App, r *core.Record) error
	onReleased func(tx core.App, r *core.Record) error
	onLatePaid func(tx core.App, r *core.Record) error // paid after it was released
}

// state is the payments feature's state of one app: the collections paid
// through Stripe Checkout, registered by the shop and tips when they bind,
// and how to reach Stripe. It lives in the app's store, so two apps in one
// process never share it.
type state struct {
	payables map[string]*payable
	config   atomic.Pointer[Config] // how to reach Stripe (config.go)
}

func stateOf(app core.App) *state {
	return app.Store().GetOrSet("salon.payments", func() any {
		return &state{payables: map[string]*payable{}}
	}).(*state)
}

func registerPayable(app core.App, p *payable) { stateOf(app).payables[p.collection] = p }

// Metadata keys we put on Checkout Sessions and their PaymentIntents.
const (
	metaKind = "salon_kind"
	metaID   = "salon_id"
)

// findPayable locates the record a Stripe object is about: by our metadata,
// else by the Stripe id stored on the record.
func findPayable(tx core.App, meta map[string]string, field, stripeID string) (*payable, *core.Record, error) {
	if p := stateOf(tx).payables[meta[metaKind]]; p != nil && meta[metaID] != "" {
		r, err := tx.FindRecordById(p.collection, meta[metaID])
		if err == nil {
			return p, r, nil
		}
	}
	if stripeID == "" {
		return nil, nil, nil
	}
	for _, p := range stateOf(tx).payables {
		r, err := tx.FindFirstRecordByData(p.collection, field, stripeID)
		if err == nil {
			return p, r, nil
		}
	}
	return nil, nil, nil
}

// markPaid settles r as paid after checking that Stripe took the amount and
// currency we asked for. It is idempotent and tolerant of event order.
func markPaid(tx core.App, p *payable, r *core.Record, amount int64, currency, paymentIntent string) (string, error) {
	status := r.GetString("status")
	if status == "paid" || status == "refunded" {
		return "already " + status, nil
	}
	if paymentIntent != "" {
		r.Set("stripe_payment_intent", paymentIntent)
		if err := pickUpWaitingRefunds(tx, r, paymentIntent); err != nil {
			return "", err
		}
	}
	if amount != int64(r.GetInt("amount")) || !strings.EqualFold(currency, r.GetString("currency")) {
		got, want := FormatAmount(amount, currency), FormatAmount(int64(r.GetInt("amount")), r.GetString("currency"))
		note := fmt.Sprintf("Stripe reported %s, expected %s", got, want)
		if status == "pending" {
			if err := release(tx, p, r, "failed", note); err != nil {
				return "", err
			}
		} else {
			r.Set("note", note)
			if err := tx.Save(r); err != nil {
				return "", err
			}
		}
		return "amount mismatch", notifyAdmins(tx, mismatchWords(p.collection, got, want), p.collection, r.Id)
	}
	late := status != "pending"
	r.Set("status", "paid")
	r.Set("paid_at", types.NowDateTime())
	if late {
		r.Set("note", "Paid after the reservation was released ("+status+").")
		if p.onLatePaid != nil {
			if err := p.onLatePaid(tx, r); err != nil {
				return "", err
			}
		}
	}
	// a refund delivered before its payment already counted the refunded
	// total: end where payment-then-refund ends
	refundedFirst := int64(r.GetInt("refunded_amount")) >= amount
	if refundedFirst {
		r.Set("status", "refunded")
	}
	if err := tx.Save(r); err != nil {
		return "", fmt.Errorf("save paid %s: %w", p.collection, err)
	}
	if late {
		if err := notifyAdmins(tx, lateWords(p.collection, status, lateNoStock(r)), p.collection, r.Id); err != nil {
			return "", err
		}
	}
	if p.onPaid != nil {
		if err := p.onPaid(tx, r); err != nil {
			return "", err
		}
	}
	if refundedFirst {
		return "paid, already refunded", nil
	}
	return "paid", nil
}

// release ends a pending record without payment (expired, canceled, failed)
// and gives back what it held. Anything but pending is left alone, so a
// late "expired" never undoes a payment.
func release(tx core.App, p *payable, r *core.Record, status, note string) error {
	if r.GetString("status") != "pending" {
		return nil
	}
	r.Set("status", status)
	if note != "" {
		r.Set("note", note)
	}
	if p.onReleased != nil {
		if err := p.onReleased(tx, r); err != nil {
			return err
		}
	}
	if err := tx.Save(r); err != nil {
		return fmt.Errorf("release %s %s: %w", p.collection, r.Id, err)
	}
	return nil
}

// settleSession applies what a Checkout Session says to its record.
func settleSession(tx core.App, s *stripe.CheckoutSession, eventType string) (string, error) {
	p, r, err := findPayable(tx, s.Metadata, "stripe_session", s.ID)
	if err != nil || r == nil {
		return "no matching record", err
	}
	if r.GetString("stripe_session") == "" {
		r.Set("stripe_session", s.ID)
	}
	pi := ""
	if s.PaymentIntent != nil {
		pi = s.PaymentIntent.ID
	}
	switch {
	case eventType == "checkout.session.async_payment_failed":
		return "payment failed", release(tx, p, r, "failed", "The payment did not go through.")
	case s.Status == stripe.CheckoutSessionStatusComplete && s.PaymentStatus == stripe.CheckoutSessionPaymentStatusPaid:
		return markPaid(tx, p, r, s.AmountTotal, string(s.Currency), pi)
	case s.Status == stripe.CheckoutSessionStatusComplete:
		// delayed methods (konbini, bank transfer): the buyer has committed;
		// keep the reservation until async_payment_succeeded/failed.
		if r.GetString("status") != "pending" {
			return "ignored: " + r.GetString("status"), nil
		}
		r.Set("expires_at", "")
		if pi != "" {
			r.Set("stripe_payment_intent", pi)
		}
		r.Set("note", "Awaiting a delayed payment.")
		return "awaiting payment", tx.Save(r)
	case s.Status == stripe.CheckoutSessionStatusExpired:
		return "expired", release(tx, p, r, "expired", "")
	}
	return "open", nil
}

// ---------------------------------------------------------------------------
// Webhook
// ---------------------------------------------------------------------------

const maxWebhookBody = 1 << 20

func stripeWebhook(e *core.RequestEvent) error {
	keys, err := loadStripeKeys(e.App)
	if err != nil {
		return err
	}
	if keys.WebhookSecret == "" {
		return errPaymentsOff
	}
	// the signature covers the exact bytes Stripe sent: read them before
	// anything parses the body.
	payload, err := io.ReadAll(io.LimitReader(e.Request.Body, maxWebhookBody+1))
	if err != nil || len(payload) > maxWebhookBody {
		return e.BadRequestError("Unreadable or oversized webhook body.", err)
	}
	// The endpoint's API version is chosen in the Stripe dashboard and may
	// differ from the SDK's; we read only fields that are stable across
	// versions, so a mismatch must not drop payments.
	event, err := webhook.ConstructEventWithOptions(payload, e.Request.Header.Get("Stripe-Signature"), keys.WebhookSecret,
		webhook.ConstructEventOptions{IgnoreAPIVersionMismatch: true})
	if err != nil {
		return e.BadRequestError("Invalid Stripe signature: "+err.Error(), nil)
	}
	outcome, err := ApplyStripeEvent(e.App, event)
	if err != nil {
		// 500 makes Stripe retry later.
		e.App.Logger().Error("stripe webhook", "event", event.ID, "type", event.Type, "error", err)
		return e.InternalServerError("Could not apply the event; Stripe will retry.", nil)
	}
	return e.JSON(http.StatusOK, map[string]any{"received": true, "outcome": outcome})
}

// ApplyStripeEvent applies one verified event. The event id is recorded in
// the same transaction as its effect, so a redelivery changes nothing.
func ApplyStripeEvent(app core.App, event stripe.Event) (string, error) {
	var outcome string
	err := app.RunInTransaction(func(tx core.App) error {
		seen, err := tx.CountRecords("stripe_events", dbx.HashExp{"event_id": event.ID})
		if err != nil {
			return err
		}
		if seen > 0 {
			outcome = "duplicate"
			return nil
		}
		c, err := tx.FindCachedCollectionByNameOrId("stripe_events")
		if err != nil {
			return err
		}
		rec := core.NewRecord(c)
		objectID, res, err := dispatchEvent(tx, event, rec)
		if err != nil {
			return err
		}
		outcome = res
		rec.Set("event_id", event.ID)
		rec.Set("type", string(event.Type))
		rec.Set("object_id", objectID)
		rec.Set("outcome", salon.Truncate(outcome, 500))
		return tx.Save(rec)
	})
	return outcome, err
}

// dispatchEvent applies event; rec is its stripe_events row, saved after.
func dispatchEvent(tx core.App, event stripe.Event, rec *core.Record) (objectID, outcome string, err error) {
	if event.Data == nil {
		return "", "ignored: no data", nil
	}
	typ := string(event.Type)
	switch {
	case strings.HasPrefix(typ, "checkout.session."):
		var s stripe.CheckoutSession
		if err := json.Unmarshal(event.Data.Raw, &s); err != nil {
			return "", "", fmt.Errorf("decode session: %w", err)
		}
		switch typ {
		case "checkout.session.completed", "checkout.session.async_payment_succeeded",
			"checkout.session.async_payment_failed", "checkout.session.expired":
			outcome, err = settleSession(tx, &s, typ)
			return s.ID, outcome, err
		}
		return s.ID, "ignored", nil

	case strings.HasPrefix(typ, "payment_intent."):
		var pi stripe.PaymentIntent
		if err := json.Unmarshal(event.Data.Raw, &pi); err != nil {
			return "", "", fmt.Errorf("decode payment intent: %w", err)
		}
		p, r, err := findPayable(tx, pi.Metadata, "stripe_payment_intent", pi.ID)
		if err != nil || r == nil {
			return pi.ID, "no matching record", err
		}
		switch typ {
		case "payment_intent.succeeded":
			outcome, err = markPaid(tx, p, r, pi.AmountReceived, string(pi.Currency), pi.ID)
		case "payment_intent.canceled":
			outcome, err = "canceled", release(tx, p, r, "canceled", "The payment was canceled.")
		case "payment_intent.payment_failed":
			// Checkout lets the buyer try another card: keep the reservation.
			outcome = "attempt failed"
			if r.GetString("status") == "pending" {
				r.Set("stripe_payment_intent", pi.ID)
				r.Set("note", "A payment attempt failed; the buyer may retry.")
				err = tx.Save(r)
			}
		default:
			outcome = "ignored"
		}
		return pi.ID, outcome, err

	case typ == "charge.refunded":
		var ch stripe.Charge
		if err := json.Unmarshal(event.Data.Raw, &ch); err != nil {
			return "", "", fmt.Errorf("decode charge: %w", err)
		}
		piID := ""
		if ch.PaymentIntent != nil {
			piID = ch.PaymentIntent.ID
		}
		p, r, err := findPayable(tx, ch.Metadata, "stripe_payment_intent", piID)
		if err != nil {
			return ch.ID, "", err
		}
		if r == nil {
			if piID == "" {
				return ch.ID, "no matching record", nil
			}
			// probably before its payment (which tells us the payment
			// intent): kept here for markPaid to pick up
			rec.Set("payment_intent", piID)
			rec.Set("refunded_amount", ch.AmountRefunded)
			return ch.ID, refundWaiting, nil
		}
		if piID != "" && r.GetString("stripe_payment_intent") == "" {
			r.Set("stripe_payment_intent", piID) // the refund came first
		}
		return ch.ID, "refunded", markRefunded(tx, p, r, ch.AmountRefunded)
	}
	return "", "ignored", nil
}

// refundWaiting is the outcome of a refund that matched nothing yet.
const refundWaiting = "refund waiting for its payment"

// pickUpWaitingRefunds counts on r the refunds of paymentIntent that arrived
// before r knew it (the largest running total wins, as in markRefunded).
func pickUpWaitingRefunds(tx core.App, r *core.Record, paymentIntent string) error {
	var refunded int64
	err := tx.DB().NewQuery("SELECT COALESCE(MAX(refunded_amount), 0) FROM stripe_events WHERE payment_intent = {:pi} AND outcome = {:o}").
		Bind(dbx.Params{"pi": paymentIntent, "o": refundWaiting}).Row(&refunded)
	if err != nil {
		return fmt.Errorf("waiting refunds of %s: %w", paymentIntent, err)
	}
	if refunded > int64(r.GetInt("refunded_amount")) {
		r.Set("refunded_amount", refunded)
	}
	return nil
}

// markRefunded records the refunded total (Stripe sends the running total,
// so an older event never lowers it); a full refund makes it refunded.
func markRefunded(tx core.App, p *payable, r *core.Record, refunded int64) error {
	if refunded <= int64(r.GetInt("refunded_amount")) {
		return nil
	}
	r.Set("refunded_amount", refunded)
	if refunded >= int64(r.GetInt("amount")) && r.GetString("status") == "paid" {
		r.Set("status", "refunded")
	}
	if err := tx.Save(r); err != nil {
		return fmt.Errorf("save refund on %s %s: %w", p.collection, r.Id, err)
	}
	return nil
}

// ---------------------------------------------------------------------------
// Reconciliation: nothing is lost when a webhook is missed
// ---------------------------------------------------------------------------

// ReconcileReport counts what one reconciliation run did.
type ReconcileReport struct {
	Checked  int      `json:"checked"`
	Paid     int      `json:"paid"`
	Released int      `json:"released"`
	Errors   []string `json:"errors"`
}

// unsessionedGrace is how long a pending record may go without a Checkout
// Session (the checkout route crashed between its steps) before it is
// released.
const unsessionedGrace = 10 * time.Minute

// Reconcile asks Stripe about every pending order and tip and settles them
// as the webhook would have: paid sessions become paid, expired ones give
// their stock back, open ones past their expiry are expired at Stripe first
// (so nobody can pay for stock we gave back). Stripe is never called while a
// transaction is open.
func Reconcile(app core.App) (ReconcileReport, error) {
	rep := ReconcileReport{Errors: []string{}}
	client, err := paymentsClient(app)
	if err != nil {
		return rep, err
	}
	now := time.Now()
	for _, p := range stateOf(app).payables {
		pending, err := app.FindRecordsByFilter(p.collection, "status = 'pending'", "created", 500, 0)
		if err != nil {
			return rep, fmt.Errorf("reconcile %s: %w", p.collection, err)
		}
		for _, r := range pending {
			rep.Checked++
			before := r.GetString("status")
			if err := reconcileOne(app, client, p, r, now); err != nil {
				rep.Errors = append(rep.Errors, fmt.Sprintf("%s %s: %v", p.collection, r.Id, err))
				continue
			}
			fresh, err := app.FindRecordById(p.collection, r.Id)
			if err != nil || fresh.GetString("status") == before {
				continue
			}
			if fresh.GetString("status") == "paid" {
				rep.Paid++
			} else {
				rep.Released++
			}
		}
	}
	return rep, nil
}

func reconcileOne(app core.App, client *stripe.Client, p *payable, r *core.Record, now time.Time) error {
	sessionID := r.GetString("stripe_session")
	if sessionID == "" {
		if now.Sub(r.GetDateTime("created").Time()) < unsessionedGrace {
			return nil // the checkout route may still be talking to Stripe
		}
		return settleTx(app, p, r.Id, func(tx core.App, r *core.Record) (string, error) {
			return "failed", release(tx, p, r, "failed", "No Stripe Checkout Session was created.")
		})
	}
	ctx, cancel := context.WithTimeout(context.Background(), stripeTimeout)
	defer cancel()
	s, err := client.V1CheckoutSessions.Retrieve(ctx, sessionID, nil)
	exp := r.GetDateTime("expires_at")
	if err != nil {
		// Stripe closes a session at its expires_at: well past it, nobody
		// can pay any more, so the stock comes back even if Stripe cannot
		// be asked (outage, or keys switched to another account).
		if !exp.IsZero() && now.After(exp.Time().Add(time.Hour)) {
			return settleTx(app, p, r.Id, func(tx core.App, r *core.Record) (string, error) {
				return "expired", release(tx, p, r, "expired", "Expired; Stripe could not confirm: "+stripeMessage(err))
			})
		}
		return fmt.Errorf("retrieve session: %w", err)
	}
	if s.Status == stripe.CheckoutSessionStatusOpen && !exp.IsZero() && now.After(exp.Time()) {
		// expire at Stripe first; if Stripe refuses, the session completed
		// meanwhile and the fresh state decides.
		if _, err := client.V1CheckoutSessions.Expire(ctx, sessionID, nil); err != nil {
			if s, err = client.V1CheckoutSessions.Retrieve(ctx, sessionID, nil); err != nil {
				return fmt.Errorf("retrieve session after expire: %w", err)
			}
		} else {
			s.Status = stripe.CheckoutSessionStatusExpired
		}
	}
	return settleTx(app, p, r.Id, func(tx core.App, _ *core.Record) (string, error) {
		return settleSession(tx, s, "")
	})
}

// settleTx reloads the record inside a transaction and applies fn to it.
func settleTx(app core.App, p *payable, id string, fn func(tx core.App, r *core.Record) (string, error)) error {
	return app.RunInTransaction(func(tx core.App) error {
		r, err := tx.FindRecordById(p.collection, id)
		if err != nil {
			return err
		}
		_, err = fn(tx, r)
		return err
	})
}

// expireSessionAndRelease is the member/admin "cancel" path: expire the
// session at Stripe (outside any transaction), then release the record.
func expireSessionAndRelease(app core.App, p *payable, r *core.Record, status string) error {
	if id := r.GetString("stripe_session"); id != "" {
		client, err := paymentsClient(app)
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(context.Background(), stripeTimeout)
		defer cancel()
		if _, err := client.V1CheckoutSessions.Expire(ctx, id, nil); err != nil {
			var se *stripe.Error
			if errors.As(err, &se) {
				return salon.Refuse(http.StatusConflict, "checkout_not_cancelable", "Stripe refused to cancel the checkout (it may be paid already): %s", se.Msg)
			}
			return fmt.Errorf("expire session: %w", err)
		}
	}
	return settleTx(app, p, r.Id, func(tx core.App, r *core.Record) (string, error) {
		return status, release(tx, p, r, status, "")
	})
}

// ---------------------------------------------------------------------------
// Routes and jobs
// ---------------------------------------------------------------------------

func stripeRoutes(g *router.RouterGroup[*core.RequestEvent]) {
	g.POST("/stripe/webhook", stripeWebhook)
	g.POST("/stripe/reconcile", func(e *core.RequestEvent) error {
		if !salon.IsAdmin(e.Auth) {
			return salon.Deny("admins_only", "Only admins may reconcile payments.")
		}
		rep, err := Reconcile(e.App)
		if err != nil {
			return err
		}
		return e.JSON(http.StatusOK, rep)
	}).Bind(apis.RequireAuth())
}

func bindStripe(app core.App) {
	// every 5 minutes: settle what webhooks missed and give back the stock
	// of unpaid, expired reservations.
	app.Cron().MustAdd("salonStripeReconcile", "*/5 * * * *", func() {
		rep, err := Reconcile(app)
		if errors.Is(err, errPaymentsOff) {
			return
		}
		// Stripe retries an event for 3 days: ids older than 30 days can go.
		if _, err := app.DB().Delete("stripe_events", dbx.NewExp("created < {:t}",
			dbx.Params{"t": types.NowDateTime().AddDate(0, 0, -30).String()})).Execute(); err != nil {
			app.Logger().Error("stripe events cleanup", "error", err)
		}
		if err != nil || len(rep.Errors) > 0 {
			app.Logger().Error("stripe reconcile", "error", err, "errors", rep.Errors)
		} else if rep.Paid+rep.Released > 0 {
			app.Logger().Info("stripe reconcile", "paid", rep.Paid, "released", rep.Released)
		}
	})
}

// CheckoutExpiresAt is the expires_at to give Stripe for a reservation that
// ends at local: Stripe wants 30 minutes to 24 hours from the moment it
// creates the session, so it gets a minute of slack either way. The
// reservation is only released after the session is expired at Stripe.
func CheckoutExpiresAt(local time.Time) int64 {
	now := time.Now()
	t := local.Add(time.Minute)
	if lo := now.Add(31 * time.Minute); t.Before(lo) {
		t = lo
	}
	if hi := now.Add(24*time.Hour - time.Minute); t.After(hi) {
		t = hi
	}
	return t.Unix()
}

// idempotencyKey names one Stripe request for one record, so retrying the
// same checkout never creates a second session.
func idempotencyKey(collection, id string) string {
	return "salonbase-" + collection + "-" + id
}

// startCheckout creates the Checkout Session of the pending payable record
// (kind "orders" or "tips") outside any transaction, with an idempotency key,
// and records it on the record, which it returns as saved. If Stripe refuses,
// the record is released as failed (an order's stock goes back at once, so
// the member may try again) and the caller gets a 502 naming what failed.
func startCheckout(e *core.RequestEvent, client *stripe.Client, kind, id string, params *stripe.CheckoutSessionCreateParams, what string) (*core.Record, error) {
	p := stateOf(e.App).payables[kind]
	params.SetIdempotencyKey(idempotencyKey(kind, id))
	ctx, cancel := context.WithTimeout(e.Request.Context(), stripeTimeout)
	defer cancel()
	session, err := client.V1CheckoutSessions.Create(ctx, params)
	if err != nil {
		relErr := settleTx(e.App, p, id, func(tx core.App, r *core.Record) (string, error) {
			return "failed", release(tx, p, r, "failed", "Stripe refused the checkout: "+stripeMessage(err))
		})
		e.App.Logger().Error("stripe checkout", "kind", kind, "id", id, "error", err, "releaseError", relErr)
		return nil, apis.NewApiError(http.StatusBadGateway, "The payment provider refused the "+what+": "+stripeMessage(err), nil)
	}

	// re-read under the transaction: a fast webhook may have settled it
	var saved *core.Record
	err = settleTx(e.App, p, id, func(tx core.App, r *core.Record) (string, error) {
		r.Set("stripe_session", session.ID)
		r.Set("checkout_url", session.URL)
		saved = r
		return "", tx.Save(r)
	})
	if err != nil {
		return nil, err
	}
	return saved, nil
}
