package payments

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"
	"github.com/pocketbase/pocketbase/tools/types"
	"github.com/stripe/stripe-go/v85"

	"salonbase/hooks/members"
	"salonbase/hooks/notify"
	"salonbase/hooks/salon"
)

// Tips during live streams: a viewer pays the host through Stripe Checkout.
// The tip stays private (tipper, host, admins) until Stripe says it is paid;
// then every member may see it, so the stream's viewers receive it live
// through subscribe('tips', {filter: "stream = 'ID'"}) and the host is
// notified. Streams are the media server's `live_streams` collection; until
// it exists, the route answers 404.

const tipExpiry = 30 * time.Minute // Stripe's shortest Checkout lifetime

func bindTips(app core.App) {
	registerPayable(app, &payable{collection: "tips", onPaid: tipPaid})

	// payment details are hidden in the schema (nobody filters on them);
	// the tipper and admins get them back
	app.OnRecordEnrich("tips").BindFunc(func(e *core.RecordEnrichEvent) error {
		auth := e.RequestInfo.Auth
		if salon.IsAdmin(auth) || (auth != nil && auth.Collection().Name == "users" && auth.Id == e.Record.GetString("from")) {
			e.Record.Unhide("stripe_session", "stripe_payment_intent", "checkout_url", "note", "expires_at")
		}
		return e.Next()
	})
}

func tipRoutes(g *router.RouterGroup[*core.RequestEvent]) {
	g.POST("/live/{id}/tips", sendTip).Bind(apis.RequireAuth())
	g.GET("/live/{id}/tips/totals", streamTipTotals).Bind(apis.RequireAuth())
	g.GET("/live/{id}/tips/options", tipOptions).Bind(apis.RequireAuth())
	g.GET("/tips/totals", hostTipTotals).Bind(apis.RequireAuth())
}

// TipLimits are the admin-set bounds of a tip.
type TipLimits struct {
	Currency string  `json:"currency"`
	Min      int64   `json:"min"`
	Max      int64   `json:"max"`
	Presets  []int64 `json:"presets"`
}

// LoadTipLimits reads the tip settings (with safe defaults).
func LoadTipLimits(app core.App) (TipLimits, error) {
	s, err := salon.Settings(app)
	if err != nil {
		return TipLimits{}, err
	}
	l := TipLimits{
		Currency: strings.ToLower(s.GetString("tip_currency")),
		Min:      int64(s.GetInt("tip_min")),
		Max:      int64(s.GetInt("tip_max")),
	}
	if l.Currency == "" {
		l.Currency = "jpy"
	}
	if l.Min <= 0 {
		l.Min = 1
	}
	if raw, ok := s.Get("tip_presets").(types.JSONRaw); ok && len(raw) > 0 {
		_ = json.Unmarshal(raw, &l.Presets) // presets are only suggestions
	}
	return l, nil
}

// CheckTip decides whether amount is a valid tip under l.
func CheckTip(l TipLimits, amount int64) error {
	if amount < l.Min || (l.Max > 0 && amount > l.Max) {
		return salon.Refuse(http.StatusBadRequest, "tip_amount", "A tip is between %s and %s.", FormatAmount(l.Min, l.Currency), FormatAmount(l.Max, l.Currency))
	}
	if CurrencyDecimals(l.Currency) == 3 && amount%10 != 0 {
		return salon.Refuse(http.StatusBadRequest, "tip_amount", "%s amounts must be multiples of 10.", strings.ToUpper(l.Currency))
	}
	return nil
}

func sendTip(e *core.RequestEvent) error {
	if !salon.IsMember(e.Auth) {
		return salon.Deny("not_member", "Only members may send tips.")
	}
	client, err := paymentsClient(e.App)
	if err != nil {
		return err
	}
	stream, err := findVisibleStream(e)
	if err != nil {
		return err
	}
	if stream.GetString("status") != "live" {
		return salon.Refuse(http.StatusConflict, "stream_not_live", "This stream is not live.")
	}
	if !stream.GetBool("tips_enabled") {
		return salon.Deny("tips_off", "Tips are turned off for this stream.")
	}
	host := stream.GetString("host")
	if host == e.Auth.Id {
		return e.BadRequestError("You cannot tip yourself.", nil)
	}
	if blocked, err := members.IsBlocked(e.App, host, e.Auth.Id); err != nil {
		return err
	} else if blocked {
		return salon.Deny("tip_blocked", "You cannot tip this host.")
	}

	var body struct {
		Amount  int64  `json:"amount"`
		Message string `json:"message"`
	}
	if err := e.BindBody(&body); err != nil {
		return e.BadRequestError("Send {amount, message}.", err)
	}
	limits, err := LoadTipLimits(e.App)
	if err != nil {
		return err
	}
	if err := CheckTip(limits, body.Amount); err != nil {
		return e.BadRequestError(err.Error(), map[string]any{"limits": limits})
	}
	message := strings.TrimSpace(body.Message)
	if len([]rune(message)) > 200 {
		return e.BadRequestError("A tip message has at most 200 characters.", nil)
	}

	c, err := e.App.FindCachedCollectionByNameOrId("tips")
	if err != nil {
		return err
	}
	tip := core.NewRecord(c)
	tip.Set("stream", stream.Id)
	tip.Set("from", e.Auth.Id)
	tip.Set("to", host)
	tip.Set("amount", body.Amount)
	tip.Set("currency", limits.Currency)
	tip.Set("message", message)
	tip.Set("status", "pending")
	tip.Set("expires_at", types.NowDateTime().Add(tipExpiry))
	if err := e.App.Save(tip); err != nil {
		return fmt.Errorf("save tip: %w", err)
	}

	hostName := "the host"
	if h, err := e.App.FindRecordById("users", host); err == nil {
		hostName = h.GetString("name")
	}
	returnURL, err := paymentReturnURL(e.App)
	if err != nil {
		return err
	}
	meta := map[string]string{metaKind: "tips", metaID: tip.Id}
	params := &stripe.CheckoutSessionCreateParams{
		Mode: stripe.String(string(stripe.CheckoutSessionModePayment)),
		LineItems: []*stripe.CheckoutSessionCreateLineItemParams{{
			Quantity: stripe.Int64(1),
			PriceData: &stripe.CheckoutSessionCreateLineItemPriceDataParams{
				Currency:    stripe.String(limits.Currency),
				UnitAmount:  stripe.Int64(body.Amount),
				ProductData: &stripe.CheckoutSessionCreateLineItemPriceDataProductDataParams{Name: stripe.String(salon.Truncate("Tip for "+hostName, 250))},
			},
		}},
		ClientReferenceID: stripe.String(tip.Id),
		CustomerEmail:     stripe.String(e.Auth.Email()),
		ExpiresAt:         stripe.Int64(CheckoutExpiresAt(tip.GetDateTime("expires_at").Time())),
		SuccessURL:        stripe.String(withQuery(returnURL, "stream="+stream.Id+"&tip="+tip.Id+"&checkout=success")),
		CancelURL:         stripe.String(withQuery(returnURL, "stream="+stream.Id+"&tip="+tip.Id+"&checkout=cancel")),
		Metadata:          meta,
		PaymentIntentData: &stripe.CheckoutSessionCreatePaymentIntentDataParams{Metadata: meta},
	}
	tip, err = startCheckout(e, client, "tips", tip.Id, params, "tip")
	if err != nil {
		return err
	}
	return e.JSON(http.StatusOK, map[string]any{
		"tip": tip.Id, "url": tip.GetString("checkout_url"), "amount": body.Amount, "currency": limits.Currency,
	})
}

// findVisibleStream loads the {id} live stream if the caller may watch it.
func findVisibleStream(e *core.RequestEvent) (*core.Record, error) {
	if _, err := e.App.FindCachedCollectionByNameOrId("live_streams"); err != nil {
		return nil, e.NotFoundError("Live streams are not available on this server.", nil)
	}
	stream, err := e.App.FindRecordById("live_streams", e.Request.PathValue("id"))
	if err != nil {
		return nil, e.NotFoundError("No such live stream.", nil)
	}
	ok, err := salon.HasRank(e.App, e.Auth, stream.GetString("min_rank"))
	if err != nil {
		return nil, err
	}
	if !ok && !salon.IsAdmin(e.Auth) && stream.GetString("host") != e.Auth.Id {
		return nil, e.NotFoundError("No such live stream.", nil)
	}
	return stream, nil
}

func tipPaid(tx core.App, tip *core.Record) error {
	from := "A member"
	if u, err := tx.FindRecordById("users", tip.GetString("from")); err == nil {
		from = u.GetString("name")
	}
	body := from + " sent " + FormatAmount(int64(tip.GetInt("amount")), tip.GetString("currency"))
	if m := tip.GetString("message"); m != "" {
		body += ": " + m
	}
	if err := postTipInChat(tx, tip, body); err != nil {
		return err
	}
	return notify.Notify(tx, []string{tip.GetString("to")}, notify.Notification{
		Kind: "tip_received", Title: from + " sent you a tip", Body: body,
		Vars: map[string]string{"FROM": from},
		URL:  "/live/" + tip.GetString("stream"), SourceCollection: "tips", SourceID: tip.Id,
	})
}

// postTipInChat shows a paid tip to everyone in the stream's chat, once.
func postTipInChat(tx core.App, tip *core.Record, body string) error {
	chat, err := tx.FindCachedCollectionByNameOrId("live_chat_messages")
	if err != nil {
		return nil // no stream chat on this server
	}
	if n, err := tx.CountRecords(chat, dbx.HashExp{"tip": tip.Id}); err != nil || n > 0 {
		return err
	}
	line := core.NewRecord(chat)
	line.Set("stream", tip.GetString("stream"))
	line.Set("author", tip.GetString("from"))
	line.Set("tip", tip.Id)
	line.Set("body", salon.Truncate(body, 2000))
	if err := tx.Save(line); err != nil {
		return fmt.Errorf("tip chat line: %w", err)
	}
	return nil
}

// TipTotal is the sum of paid tips in one currency, net of refunds.
type TipTotal struct {
	Currency string `db:"currency" json:"currency"`
	Count    int    `db:"count" json:"count"`
	Amount   int64  `db:"amount" json:"amount"`
}

func tipTotals(app core.App, where dbx.Expression) ([]TipTotal, error) {
	out := []TipTotal{}
	err := app.DB().Select("currency", "count(*) as count", "coalesce(sum(amount - refunded_amount), 0) as amount").
		From("tips").
		Where(where).
		AndWhere(dbx.In("status", "paid", "refunded")).
		GroupBy("currency").OrderBy("currency").
		All(&out)
	return out, err
}

// streamTipTotals: the stream's host and admins see what it earned.
func streamTipTotals(e *core.RequestEvent) error {
	if _, err := e.App.FindCachedCollectionByNameOrId("live_streams"); err != nil {
		return e.NotFoundError("Live streams are not available on this server.", nil)
	}
	stream, err := e.App.FindRecordById("live_streams", e.Request.PathValue("id"))
	if err != nil || !(salon.IsAdmin(e.Auth) || (salon.IsMember(e.Auth) && stream.GetString("host") == e.Auth.Id)) {
		return e.NotFoundError("No such live stream.", nil)
	}
	totals, err := tipTotals(e.App, dbx.HashExp{"stream": stream.Id})
	if err != nil {
		return err
	}
	return e.JSON(http.StatusOK, map[string]any{"stream": stream.Id, "host": stream.GetString("host"), "totals": totals})
}

// hostTipTotals: ?host=ID (default: the caller); hosts see their own,
// admins anyone's.
func hostTipTotals(e *core.RequestEvent) error {
	host := e.Request.URL.Query().Get("host")
	if host == "" && e.Auth != nil {
		host = e.Auth.Id
	}
	if !salon.IsAdmin(e.Auth) && !(salon.IsMember(e.Auth) && host == e.Auth.Id) {
		return salon.Deny("host_or_admin_only", "Only the host and admins see a host's tips.")
	}
	totals, err := tipTotals(e.App, dbx.HashExp{"to": host})
	if err != nil {
		return err
	}
	return e.JSON(http.StatusOK, map[string]any{"host": host, "totals": totals})
}
