package payments

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"
	"github.com/pocketbase/pocketbase/tools/types"
	"github.com/stripe/stripe-go/v85"

	"salonbase/hooks/notify"
	"salonbase/hooks/salon"
)

// The members-only shop: products are listed in the dashboard, members buy
// through Stripe Checkout. The server computes every price; stock is
// reserved in a transaction before Stripe is called and given back when a
// reservation ends unpaid (stripe.go settles orders).

const defaultMaxPerOrder = 100

func bindShop(app core.App) {
	registerPayable(app, &payable{
		collection: "orders",
		onPaid:     orderPaid,
		onReleased: orderReleased,
		onLatePaid: orderPaidLate,
	})

	// bad price rules would break the catalogue for everyone: refuse them
	// when the admin saves the product.
	app.OnRecordValidate("products").BindFunc(func(e *core.RecordEvent) error {
		if err := validateProduct(e.App, e.Record); err != nil {
			return apis.NewBadRequestError(err.Error(), nil)
		}
		return e.Next()
	})

	// every member sees their own price and whether the product can be
	// bought now, through the stock products API.
	app.OnRecordEnrich("products").BindFunc(func(e *core.RecordEnrichEvent) error {
		e.Record.WithCustomData(true)
		e.Record.Set("sale_state", string(ProductSaleState(e.Record, time.Now())))
		if auth := e.RequestInfo.Auth; auth != nil && auth.Collection().Name == "users" {
			price, err := MemberPrice(e.App, e.Record, auth)
			if err != nil {
				e.App.Logger().Warn("product price", "product", e.Record.Id, "error", err)
				price = int64(e.Record.GetInt("price"))
			}
			e.Record.Set("your_price", price)
		}
		return e.Next()
	})
}

func shopRoutes(g *router.RouterGroup[*core.RequestEvent]) {
	s := g.Group("/shop")
	s.Bind(apis.RequireAuth())
	s.GET("/status", shopStatus)
	s.POST("/checkout", shopCheckout)
	s.POST("/orders/{id}/cancel", shopCancel)
	s.GET("/orders.csv", shopOrdersCSV)
}

// ---------------------------------------------------------------------------
// Prices
// ---------------------------------------------------------------------------

// RankPricing is a product's rank rules with rank names resolved to levels:
// a price or a percent discount for members of that level and above.
type RankPricing struct {
	Prices    map[int]int64
	Discounts map[int]float64
}

// PriceFor is the unit price for a member of level: the lowest of the base
// price and every rank price or discount that applies to that level. It
// never exceeds the base price and never goes below 0.
func PriceFor(base int64, currency string, level int, rp RankPricing) int64 {
	best := base
	for l, p := range rp.Prices {
		if level >= l && p >= 0 && p < best {
			best = p
		}
	}
	for l, pct := range rp.Discounts {
		if level >= l && pct > 0 {
			if pct > 100 {
				pct = 100
			}
			if p := roundForCurrency(float64(base)*(100-pct)/100, currency); p < best {
				best = p
			}
		}
	}
	return best
}

// productPricing reads rank_prices / rank_discounts ({"Gold": 1200},
// {"Silver": 10}); keys are rank names or ids. Unknown ranks are ignored.
func productPricing(app core.App, product *core.Record) (RankPricing, error) {
	rp := RankPricing{Prices: map[int]int64{}, Discounts: map[int]float64{}}
	for field, put := range map[string]func(level int, v float64){
		"rank_prices":    func(l int, v float64) { rp.Prices[l] = int64(v) },
		"rank_discounts": func(l int, v float64) { rp.Discounts[l] = v },
	} {
		raw, _ := product.Get(field).(types.JSONRaw)
		if len(raw) == 0 || string(raw) == "null" {
			continue
		}
		var m map[string]float64
		if err := json.Unmarshal(raw, &m); err != nil {
			return rp, fmt.Errorf("product %s: %s must map rank names to numbers: %w", product.Id, field, err)
		}
		for key, v := range m {
			rank, err := app.FindFirstRecordByData("ranks", "name", key)
			if err != nil {
				if rank, err = app.FindRecordById("ranks", key); err != nil {
					continue
				}
			}
			put(rank.GetInt("level"), v)
		}
	}
	return rp, nil
}

// validateProduct checks what the schema cannot: the sale window, amounts
// valid for the currency, and rank price rules that name real ranks.
func validateProduct(app core.App, p *core.Record) error {
	starts, ends := p.GetDateTime("sale_starts"), p.GetDateTime("sale_ends")
	if !starts.IsZero() && !ends.IsZero() && !ends.After(starts) {
		return errors.New("sale_ends must be after sale_starts")
	}
	cur := strings.ToLower(p.GetString("currency"))
	p.Set("currency", cur)
	if CurrencyDecimals(cur) == 3 && p.GetInt("price")%10 != 0 {
		return fmt.Errorf("%s prices must be multiples of 10 (Stripe rule for three-decimal currencies)", strings.ToUpper(cur))
	}
	for _, field := range []string{"rank_prices", "rank_discounts"} {
		raw, _ := p.Get(field).(types.JSONRaw)
		if len(raw) == 0 || string(raw) == "null" {
			continue
		}
		var m map[string]float64
		if err := json.Unmarshal(raw, &m); err != nil {
			return fmt.Errorf(`%s must map rank names to numbers, like {"Gold": 1200}`, field)
		}
		for rank, v := range m {
			if _, err := app.FindFirstRecordByData("ranks", "name", rank); err != nil {
				if _, err := app.FindRecordById("ranks", rank); err != nil {
					return fmt.Errorf("%s: no rank named %q", field, rank)
				}
			}
			if v < 0 || (field == "rank_discounts" && v > 100) || (field == "rank_prices" && v != float64(int64(v))) {
				return fmt.Errorf("%s: %v is not valid for %q", field, v, rank)
			}
		}
	}
	return nil
}

// MemberPrice is what user pays for one unit of product.
func MemberPrice(app core.App, product, user *core.Record) (int64, error) {
	rp, err := productPricing(app, product)
	if err != nil {
		return 0, err
	}
	level, err := salon.UserRankLevel(app, user)
	if err != nil {
		return 0, err
	}
	return PriceFor(int64(product.GetInt("price")), product.GetString("currency"), level, rp), nil
}

// ---------------------------------------------------------------------------
// Checkout
// ---------------------------------------------------------------------------

type checkoutResult struct {
	Order     string `json:"order"`
	URL       string `json:"url"`
	Amount    int64  `json:"amount"`
	Currency  string `json:"currency"`
	ExpiresAt string `json:"expires_at"`
}

func shopCheckout(e *core.RequestEvent) error {
	if !salon.IsMember(e.Auth) {
		return salon.Deny("not_member", "Only members may buy in the shop.")
	}
	client, err := paymentsClient(e.App)
	if err != nil {
		return err
	}
	var body struct {
		Product  string `json:"product"`
		Quantity int    `json:"quantity"`
	}
	if err := e.BindBody(&body); err != nil {
		return e.BadRequestError("Send {product, quantity}.", err)
	}
	if body.Quantity == 0 {
		body.Quantity = 1
	}
	if body.Product == "" || body.Quantity < 0 {
		return e.BadRequestError("Send a product id and a positive quantity.", nil)
	}
	settings, err := salon.Settings(e.App)
	if err != nil {
		return err
	}
	expiry := time.Duration(max(settings.GetInt("checkout_expiry_minutes"), 30)) * time.Minute

	// 1. reserve stock and write the pending order in one transaction.
	var order, product *core.Record
	var reused bool
	err = e.App.RunInTransaction(func(tx core.App) error {
		var err error
		product, err = tx.FindRecordById("products", body.Product)
		if err != nil {
			return e.NotFoundError("No such product.", nil)
		}
		if ok, err := CanSeeProduct(tx, e.Auth, product); err != nil {
			return err
		} else if !ok {
			return e.NotFoundError("No such product.", nil)
		}
		limit := product.GetInt("max_per_order")
		if limit <= 0 {
			limit = defaultMaxPerOrder
		}
		if body.Quantity > limit {
			return e.BadRequestError(fmt.Sprintf("At most %d per order.", limit), nil)
		}
		// a second click resumes the open checkout instead of reserving twice
		if open, _ := tx.FindFirstRecordByFilter("orders",
			"user = {:u} && product = {:p} && quantity = {:q} && status = 'pending' && checkout_url != '' && expires_at > {:soon}",
			dbx.Params{"u": e.Auth.Id, "p": product.Id, "q": body.Quantity, "soon": types.NowDateTime().Add(5 * time.Minute)}); open != nil {
			order, reused = open, true
			return nil
		}
		switch state := ProductSaleState(product, time.Now()); state {
		case SaleNotYet:
			return salon.Refuse(http.StatusConflict, "product_not_on_sale", "This product is not on sale yet.")
		case SaleEnded:
			return salon.Refuse(http.StatusConflict, "product_sale_ended", "The sale of this product has ended.")
		case SaleSoldOut:
			return salon.Refuse(http.StatusConflict, "product_sold_out", "Sold out.")
		}
		held := !product.GetBool("unlimited")
		if held {
			left := product.GetInt("stock")
			if left < body.Quantity {
				return salon.Refuse(http.StatusConflict, "product_stock_low", "Only %d left.", left)
			}
			product.Set("stock", left-body.Quantity)
			if err := tx.Save(product); err != nil {
				return fmt.Errorf("reserve stock: %w", err)
			}
		}
		unit, err := MemberPrice(tx, product, e.Auth)
		if err != nil {
			return err
		}
		c, err := tx.FindCachedCollectionByNameOrId("orders")
		if err != nil {
			return err
		}
		order = core.NewRecord(c)
		order.Set("user", e.Auth.Id)
		order.Set("product", product.Id)
		order.Set("product_name", product.GetString("name"))
		order.Set("seller", product.GetString("seller"))
		order.Set("quantity", body.Quantity)
		order.Set("unit_amount", unit)
		order.Set("amount", unit*int64(body.Quantity))
		order.Set("currency", strings.ToLower(product.GetString("currency")))
		order.Set("status", "pending")
		order.Set("stock_held", held)
		order.Set("expires_at", types.NowDateTime().Add(expiry))
		return tx.Save(order)
	})
	if err != nil {
		return err
	}
	if reused {
		return e.JSON(http.StatusOK, resultOf(order))
	}

	// 2. create the Checkout Session outside any transaction.
	returnURL, err := paymentReturnURL(e.App)
	if err != nil {
		return err
	}
	params := &stripe.CheckoutSessionCreateParams{
		Mode: stripe.String(string(stripe.CheckoutSessionModePayment)),
		LineItems: []*stripe.CheckoutSessionCreateLineItemParams{{
			Quantity: stripe.Int64(int64(order.GetInt("quantity"))),
			PriceData: &stripe.CheckoutSessionCreateLineItemPriceDataParams{
				Currency:    stripe.String(order.GetString("currency")),
				UnitAmount:  stripe.Int64(int64(order.GetInt("unit_amount"))),
				ProductData: &stripe.CheckoutSessionCreateLineItemPriceDataProductDataParams{Name: stripe.String(order.GetString("product_name"))},
			},
		}},
		ClientReferenceID: stripe.String(order.Id),
		CustomerEmail:     stripe.String(e.Auth.Email()),
		ExpiresAt:         stripe.Int64(CheckoutExpiresAt(order.GetDateTime("expires_at").Time())),
		SuccessURL:        stripe.String(withQuery(returnURL, "order="+order.Id+"&checkout=success")),
		CancelURL:         stripe.String(withQuery(returnURL, "order="+order.Id+"&checkout=cancel")),
		Metadata:          map[string]string{metaKind: "orders", metaID: order.Id},
		PaymentIntentData: &stripe.CheckoutSessionCreatePaymentIntentDataParams{
			Metadata: map[string]string{metaKind: "orders", metaID: order.Id},
		},
	}
	order, err = startCheckout(e, client, "orders", order.Id, params, "checkout")
	if err != nil {
		return err
	}
	return e.JSON(http.StatusOK, resultOf(order))
}

// shopStatus tells a client whether buying can work at all, so a shop
// without Stripe keys says so instead of showing buttons that fail.
func shopStatus(e *core.RequestEvent) error {
	k, err := loadStripeKeys(e.App)
	if err != nil {
		return err
	}
	return e.JSON(http.StatusOK, map[string]bool{"payments": k.Secret != ""})
}

func resultOf(order *core.Record) checkoutResult {
	return checkoutResult{
		Order:     order.Id,
		URL:       order.GetString("checkout_url"),
		Amount:    int64(order.GetInt("amount")),
		Currency:  order.GetString("currency"),
		ExpiresAt: order.GetDateTime("expires_at").String(),
	}
}

// paymentReturnURL is where Stripe sends buyers back: shop_return_url, or
// the application URL.
func paymentReturnURL(app core.App) (string, error) {
	s, err := salon.Settings(app)
	if err != nil {
		return "", err
	}
	if u := s.GetString("shop_return_url"); u != "" {
		return u, nil
	}
	return strings.TrimRight(app.Settings().Meta.AppURL, "/") + "/", nil
}

func withQuery(u, q string) string {
	if strings.Contains(u, "?") {
		return u + "&" + q
	}
	return u + "?" + q
}

// stripeMessage is the part of a Stripe error that is safe to show.
func stripeMessage(err error) string {
	var se *stripe.Error
	if errors.As(err, &se) && se.Msg != "" {
		return se.Msg
	}
	return "the payment provider is unreachable"
}

// shopCancel lets a member give up their own pending order (admins any):
// the session is expired at Stripe, then the stock comes back.
func shopCancel(e *core.RequestEvent) error {
	order, err := e.App.FindRecordById("orders", e.Request.PathValue("id"))
	if err != nil || !(salon.IsAdmin(e.Auth) || (salon.IsMember(e.Auth) && order.GetString("user") == e.Auth.Id)) {
		return e.NotFoundError("No such order.", nil)
	}
	if order.GetString("status") != "pending" {
		return e.BadRequestError("Only a pending order can be canceled; this one is "+order.GetString("status")+".", nil)
	}
	if err := expireSessionAndRelease(e.App, stateOf(e.App).payables["orders"], order, "canceled"); err != nil {
		return err
	}
	fresh, err := e.App.FindRecordById("orders", order.Id)
	if err != nil {
		return err
	}
	return e.JSON(http.StatusOK, map[string]any{"order": fresh.Id, "status": fresh.GetString("status")})
}

// ---------------------------------------------------------------------------
// Order effects (called by the settling code in stripe.go)
// ---------------------------------------------------------------------------

func orderPaid(tx core.App, order *core.Record) error {
	total := FormatAmount(int64(order.GetInt("amount")), order.GetString("currency"))
	what := fmt.Sprintf("%d × %s", order.GetInt("quantity"), order.GetString("product_name"))
	url := "/shop/orders/" + order.Id
	if err := notify.Notify(tx, []string{order.GetString("user")}, notify.Notification{
		Kind: "order_paid", Title: "Payment received: " + order.GetString("product_name"),
		Body: what + ", " + total + ".", URL: url, SourceCollection: "orders", SourceID: order.Id,
		Vars: map[string]string{"PRODUCT": order.GetString("product_name")},
	}); err != nil {
		return err
	}
	if seller := order.GetString("seller"); seller != "" {
		return notify.Notify(tx, []string{seller}, notify.Notification{
			Kind: "order_sold", Title: "You sold " + order.GetString("product_name"),
			Body: what + ", " + total + ".", URL: url, SourceCollection: "orders", SourceID: order.Id,
			Vars: map[string]string{"PRODUCT": order.GetString("product_name")},
		})
	}
	return nil
}

// orderReleased gives the reserved stock back.
func orderReleased(tx core.App, order *core.Record) error {
	if !order.GetBool("stock_held") {
		return nil
	}
	order.Set("stock_held", false)
	product, err := tx.FindRecordById("products", order.GetString("product"))
	if err != nil {
		return nil // the product was deleted: nothing to give back
	}
	product.Set("stock", product.GetInt("stock")+order.GetInt("quantity"))
	if err := tx.Save(product); err != nil {
		return fmt.Errorf("return stock: %w", err)
	}
	return nil
}

// orderPaidLate takes the stock again for a payment that arrived after the
// reservation ended; if it is gone, the note tells the admins.
func orderPaidLate(tx core.App, order *core.Record) error {
	product, err := tx.FindRecordById("products", order.GetString("product"))
	if err != nil || product.GetBool("unlimited") {
		return nil
	}
	q := order.GetInt("quantity")
	if left := product.GetInt("stock"); left < q {
		order.Set("note", order.GetString("note")+noStockNote)
		return nil
	}
	product.Set("stock", product.GetInt("stock")-q)
	order.Set("stock_held", true)
	return tx.Save(product)
}

// ---------------------------------------------------------------------------
// CSV export for admins
// ---------------------------------------------------------------------------

// shopOrdersCSV exports orders, optionally filtered by ?status= and a
// created date range ?from=YYYY-MM-DD&to=YYYY-MM-DD (to is inclusive).
func shopOrdersCSV(e *core.RequestEvent) error {
	if !salon.IsAdmin(e.Auth) {
		return salon.Deny("admins_only", "Only admins may export sales.")
	}
	q := e.Request.URL.Query()
	filter := []string{"id != ''"}
	params := dbx.Params{}
	if s := q.Get("status"); s != "" {
		filter = append(filter, "status = {:status}")
		params["status"] = s
	}
	for key, op := range map[string]string{"from": ">=", "to": "<"} {
		v := q.Get(key)
		if v == "" {
			continue
		}
		d, err := time.Parse(time.DateOnly, v)
		if err != nil {
			return e.BadRequestError(key+" must be a date like 2026-01-31.", nil)
		}
		if key == "to" {
			d = d.AddDate(0, 0, 1)
		}
		filter = append(filter, "created "+op+" {:"+key+"}")
		params[key] = d.UTC().Format(types.DefaultDateLayout)
	}
	orders, err := e.App.FindRecordsByFilter("orders", strings.Join(filter, " && "), "created", 0, 0, params)
	if err != nil {
		return e.BadRequestError("Bad filter.", err)
	}
	if errs := e.App.ExpandRecords(orders, []string{"user"}, nil); len(errs) > 0 {
		return fmt.Errorf("expand buyers: %v", errs)
	}

	e.Response.Header().Set("Content-Type", "text/csv; charset=utf-8")
	e.Response.Header().Set("Content-Disposition", `attachment; filename="orders.csv"`)
	w := csv.NewWriter(e.Response)
	_ = w.Write([]string{"order", "created", "paid_at", "status", "buyer", "buyer_email", "product", "seller",
		"quantity", "unit_amount", "amount", "currency", "total", "refunded_amount", "stripe_session", "stripe_payment_intent", "note"})
	for _, o := range orders {
		name, email := "", ""
		if u := o.ExpandedOne("user"); u != nil {
			name, email = u.GetString("name"), u.Email()
		}
		_ = w.Write(salon.CsvRow(
			o.Id, o.GetDateTime("created").String(), o.GetDateTime("paid_at").String(), o.GetString("status"),
			name, email, o.GetString("product_name"), o.GetString("seller"),
			strconv.Itoa(o.GetInt("quantity")), strconv.Itoa(o.GetInt("unit_amount")), strconv.Itoa(o.GetInt("amount")),
			o.GetString("currency"), FormatAmount(int64(o.GetInt("amount")), o.GetString("currency")),
			strconv.Itoa(o.GetInt("refunded_amount")), o.GetString("stripe_session"), o.GetString("stripe_payment_intent"), o.GetString("note"),
		))
	}
	w.Flush()
	return w.Error()
}
