package payments_test

import (
	"encoding/csv"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/tools/types"

	"salonbase/hooks/payments"
	"salonbase/hooks/salon"
	"salonbase/testutil"
)

func TestPriceFor(t *testing.T) {
	t.Parallel()
	rp := payments.RankPricing{
		Prices:    map[int]int64{30: 1200}, // Gold and above
		Discounts: map[int]float64{20: 10}, // Silver and above: 10% off
	}
	for name, c := range map[string]struct {
		base     int64
		currency string
		level    int
		want     int64
	}{
		"Free pays the base":             {1500, "jpy", 0, 1500},
		"Silver gets 10% off":            {1500, "jpy", 20, 1350},
		"Gold gets the lower rank price": {1500, "jpy", 30, 1200},
		"Platinum inherits Gold":         {1500, "jpy", 40, 1200},
		"yen rounds to whole yen":        {999, "jpy", 20, 899},   // 899.1
		"cents round half up":            {1995, "usd", 20, 1796}, // 1795.5
		"three-decimal rounds to tens":   {1995, "kwd", 20, 1800}, // 1795.5 → 1800
	} {
		if got := payments.PriceFor(c.base, c.currency, c.level, rp); got != c.want {
			t.Errorf("%s: got %d, want %d", name, got, c.want)
		}
	}
	// a rank price above the base never raises the price
	if got := payments.PriceFor(1000, "jpy", 30, payments.RankPricing{Prices: map[int]int64{30: 5000}}); got != 1000 {
		t.Errorf("rank price above base: got %d", got)
	}
}

func TestFormatAmount(t *testing.T) {
	t.Parallel()
	for amount, want := range map[int64]string{1500: "1500 JPY"} {
		if got := payments.FormatAmount(amount, "jpy"); got != want {
			t.Errorf("got %q want %q", got, want)
		}
	}
	if got := payments.FormatAmount(1999, "usd"); got != "19.99 USD" {
		t.Errorf("usd: %q", got)
	}
	if got := payments.FormatAmount(5, "eur"); got != "0.05 EUR" {
		t.Errorf("eur: %q", got)
	}
	if got := payments.FormatAmount(1250, "kwd"); got != "1.250 KWD" {
		t.Errorf("kwd: %q", got)
	}
}

func TestShopWithoutKeys(t *testing.T) {
	t.Setenv("STRIPE_SECRET_KEY", "")
	t.Setenv("STRIPE_WEBHOOK_SECRET", "")
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	member := testutil.CreateUser(t, app, testutil.User{})
	admin := testutil.CreateUser(t, app, testutil.User{Role: "admin"})
	p := testutil.NewProduct(t, app, nil)
	token := testutil.Token(t, member)

	status, body := srv.Do(t, http.MethodPost, "/api/salon/shop/checkout", token, map[string]any{"product": p.Id, "quantity": 1})
	if status != http.StatusServiceUnavailable || !strings.Contains(string(body), "payments are not configured") {
		t.Fatalf("checkout without keys: %d %s", status, body)
	}
	status, body = testutil.PostWebhook(t, srv, testutil.StripeEvent("checkout.session.completed", map[string]any{"id": "cs_1"}), "whsec_x", time.Now())
	if status != http.StatusServiceUnavailable {
		t.Fatalf("webhook without secret: %d %s", status, body)
	}
	if status, body := srv.Do(t, http.MethodPost, "/api/salon/stripe/reconcile", testutil.Token(t, admin), nil); status != http.StatusServiceUnavailable {
		t.Fatalf("reconcile without keys: %d %s", status, body)
	}
	// the rest of the salon works: browsing the shop, the stock APIs
	if status, body := srv.Do(t, http.MethodGet, "/api/collections/products/records", token, nil); status != http.StatusOK || !strings.Contains(string(body), p.Id) {
		t.Fatalf("browse products: %d %s", status, body)
	}
	if status, _ := srv.Do(t, http.MethodGet, "/api/collections/notifications/records", token, nil); status != http.StatusOK {
		t.Fatalf("notifications: %d", status)
	}
}

func TestShopSecretsStayHidden(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	testutil.UpdateSettings(t, app, map[string]any{"stripe_secret_key": testutil.TestSecretKey, "stripe_webhook_secret": testutil.TestWebhookSecret})
	admin := testutil.CreateUser(t, app, testutil.User{Role: "admin"})
	member := testutil.CreateUser(t, app, testutil.User{})

	for _, token := range []string{testutil.Token(t, admin), testutil.Token(t, member)} {
		status, body := srv.Do(t, http.MethodGet, "/api/collections/salon_settings/records", token, nil)
		if status != http.StatusOK || strings.Contains(string(body), "sk_test") || strings.Contains(string(body), "whsec_") {
			t.Fatalf("settings leak secrets: %d %s", status, body)
		}
	}
	// an in-app admin cannot overwrite the keys through the API either
	s, _ := salon.Settings(app)
	status, body := srv.Do(t, http.MethodPatch, "/api/collections/salon_settings/records/"+s.Id, testutil.Token(t, admin),
		map[string]any{"stripe_secret_key": "sk_test_attacker", "guest_chat": true})
	if status != http.StatusOK {
		t.Fatalf("admin edits settings: %d %s", status, body)
	}
	if s, _ := salon.Settings(app); s.GetString("stripe_secret_key") != testutil.TestSecretKey || !s.GetBool("guest_chat") {
		t.Fatalf("secret key changed by an in-app admin: %q", s.GetString("stripe_secret_key"))
	}
}

func TestShopCatalogue(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	free := testutil.CreateUser(t, app, testutil.User{Rank: "Free"})
	silver := testutil.CreateUser(t, app, testutil.User{Rank: "Silver"})
	gold := testutil.CreateUser(t, app, testutil.User{Rank: "Gold"})
	suspended := testutil.CreateUser(t, app, testutil.User{Rank: "Gold", Suspended: true})
	admin := testutil.CreateUser(t, app, testutil.User{Role: "admin"})

	mug := testutil.NewProduct(t, app, map[string]any{"rank_prices": map[string]any{"Gold": 1200}, "rank_discounts": map[string]any{"Silver": 10}})
	goldOnly := testutil.NewProduct(t, app, map[string]any{"name": "Gold print", "min_rank": testutil.RankID(t, app, "Gold")})
	hidden := testutil.NewProduct(t, app, map[string]any{"name": "Draft", "active": false})
	soon := testutil.NewProduct(t, app, map[string]any{"name": "Soon", "sale_starts": types.NowDateTime().Add(24 * time.Hour)})
	gone := testutil.NewProduct(t, app, map[string]any{"name": "Gone", "stock": 0})

	type product struct {
		ID        string `json:"id"`
		YourPrice int64  `json:"your_price"`
		SaleState string `json:"sale_state"`
	}
	see := func(token string) map[string]product {
		status, body := srv.Do(t, http.MethodGet, "/api/collections/products/records?perPage=100", token, nil)
		if status != http.StatusOK {
			t.Fatalf("list products: %d %s", status, body)
		}
		out := map[string]product{}
		for _, p := range testutil.Decode[testutil.List[product]](t, body).Items {
			out[p.ID] = p
		}
		return out
	}

	got := see(testutil.Token(t, free))
	if len(got) != 3 || got[mug.Id].YourPrice != 1500 {
		t.Fatalf("Free member sees %v", got)
	}
	if _, ok := got[goldOnly.Id]; ok {
		t.Fatal("Free member sees a Gold-only product")
	}
	if got[soon.Id].SaleState != "not_yet" || got[gone.Id].SaleState != "sold_out" || got[mug.Id].SaleState != "available" {
		t.Fatalf("sale states: %v", got)
	}
	if got := see(testutil.Token(t, silver)); got[mug.Id].YourPrice != 1350 {
		t.Fatalf("Silver price: %v", got[mug.Id])
	}
	got = see(testutil.Token(t, gold))
	if got[mug.Id].YourPrice != 1200 || got[goldOnly.Id].ID == "" {
		t.Fatalf("Gold member sees %v", got)
	}
	if got := see(testutil.Token(t, admin)); got[hidden.Id].ID == "" || len(got) != 5 {
		t.Fatalf("admin sees every product, got %d", len(got))
	}
	if status, body := srv.Do(t, http.MethodGet, "/api/collections/products/records", testutil.Token(t, suspended), nil); status != http.StatusForbidden || strings.Contains(string(body), mug.Id) {
		t.Fatalf("suspended member lists products: %d %s", status, body)
	}
	if got := see(""); len(got) != 0 {
		t.Fatalf("anonymous sees %v", got)
	}
	// Gold-only product by id: hidden from the Free member
	if status, _ := srv.Do(t, http.MethodGet, "/api/collections/products/records/"+goldOnly.Id, testutil.Token(t, free), nil); status != http.StatusNotFound {
		t.Fatalf("Free member views a Gold-only product: %d", status)
	}
	// members cannot edit products (not even the stock)
	testutil.WantStatus(t, srv, http.MethodPatch, "/api/collections/products/records/"+mug.Id, testutil.Token(t, gold), map[string]any{"stock": 999}, http.StatusForbidden, `"code":"admins_only"`)
	if testutil.Reload(t, app, mug).GetInt("stock") != 10 {
		t.Fatal("stock changed by a member")
	}
}

func TestShopCheckout(t *testing.T) {
	app := testutil.NewApp(t)
	testutil.EnablePayments(t, app)
	srv := testutil.Serve(t, app)
	seller := testutil.CreateUser(t, app, testutil.User{Name: "Seller"})
	buyer := testutil.CreateUser(t, app, testutil.User{Rank: "Gold"})
	free := testutil.CreateUser(t, app, testutil.User{Rank: "Free"})
	suspended := testutil.CreateUser(t, app, testutil.User{Suspended: true})
	token := testutil.Token(t, buyer)

	mug := testutil.NewProduct(t, app, map[string]any{"stock": 5, "max_per_order": 3, "seller": seller.Id, "rank_prices": map[string]any{"Gold": 1200}})
	goldOnly := testutil.NewProduct(t, app, map[string]any{"name": "Gold print", "min_rank": testutil.RankID(t, app, "Gold")})
	soon := testutil.NewProduct(t, app, map[string]any{"name": "Soon", "sale_starts": types.NowDateTime().Add(time.Hour)})
	ended := testutil.NewProduct(t, app, map[string]any{"name": "Ended", "sale_ends": types.NowDateTime().Add(-time.Hour)})
	unlimited := testutil.NewProduct(t, app, map[string]any{"name": "E-book", "stock": 0, "unlimited": true, "price": 999, "currency": "usd"})

	// the client's price is ignored: the server charges the Gold price
	status, body := srv.Do(t, http.MethodPost, "/api/salon/shop/checkout", token, map[string]any{"product": mug.Id, "quantity": 2, "amount": 1, "price": 1})
	if status != http.StatusOK {
		t.Fatalf("checkout: %d %s", status, body)
	}
	res := testutil.Decode[map[string]any](t, body)
	if res["amount"] != float64(2400) || res["currency"] != "jpy" || !strings.HasPrefix(res["url"].(string), "https://checkout.stripe.com/") {
		t.Fatalf("checkout result: %v", res)
	}
	order, err := app.FindRecordById("orders", res["order"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if order.GetString("status") != "pending" || order.GetInt("unit_amount") != 1200 || order.GetString("user") != buyer.Id ||
		!strings.HasPrefix(order.GetString("stripe_session"), "cs_") || order.GetString("seller") != seller.Id || !order.GetBool("stock_held") {
		t.Fatalf("order: %v", order.PublicExport())
	}
	if testutil.Reload(t, app, mug).GetInt("stock") != 3 {
		t.Fatalf("stock not reserved: %d", testutil.Reload(t, app, mug).GetInt("stock"))
	}

	// a second click on the same checkout resumes it instead of reserving again
	status, body = srv.Do(t, http.MethodPost, "/api/salon/shop/checkout", token, map[string]any{"product": mug.Id, "quantity": 2})
	if status != http.StatusOK || testutil.Decode[map[string]any](t, body)["order"] != order.Id || testutil.Reload(t, app, mug).GetInt("stock") != 3 {
		t.Fatalf("repeat click: %d %s", status, body)
	}

	// unlimited products in a two-decimal currency
	status, body = srv.Do(t, http.MethodPost, "/api/salon/shop/checkout", token, map[string]any{"product": unlimited.Id})
	if status != http.StatusOK || testutil.Decode[map[string]any](t, body)["amount"] != float64(999) {
		t.Fatalf("unlimited checkout: %d %s", status, body)
	}

	few := testutil.NewProduct(t, app, map[string]any{"name": "Few", "stock": 2})
	gone := testutil.NewProduct(t, app, map[string]any{"name": "Gone", "stock": 0})
	for _, c := range []struct {
		name  string
		token string
		body  any
		want  int
		msg   string
	}{
		{"too many", token, map[string]any{"product": mug.Id, "quantity": 4}, 400, "At most 3"},
		{"negative quantity", token, map[string]any{"product": mug.Id, "quantity": -1}, 400, "positive quantity"},
		{"no product", token, map[string]any{"quantity": 1}, 400, "product id"},
		{"unknown product", token, map[string]any{"product": "nosuchproduct12"}, 404, "No such product"},
		{"not for this rank", testutil.Token(t, free), map[string]any{"product": goldOnly.Id}, 404, "No such product"},
		{"not yet on sale", token, map[string]any{"product": soon.Id}, 409, "not on sale yet"},
		{"sale ended", token, map[string]any{"product": ended.Id}, 409, "has ended"},
		{"more than left", token, map[string]any{"product": few.Id, "quantity": 3}, 409, "Only 2 left"},
		{"sold out", token, map[string]any{"product": gone.Id}, 409, "Sold out"},
		{"suspended", testutil.Token(t, suspended), map[string]any{"product": mug.Id}, 403, "suspended"},
		{"anonymous", "", map[string]any{"product": mug.Id}, 401, ""},
		{"bad json", token, "{", 400, ""},
	} {
		status, body := srv.Do(t, http.MethodPost, "/api/salon/shop/checkout", c.token, c.body)
		if status != c.want || !strings.Contains(string(body), c.msg) {
			t.Errorf("%s: want %d %q, got %d %s", c.name, c.want, c.msg, status, body)
		}
	}
	if testutil.Reload(t, app, few).GetInt("stock") != 2 || testutil.Reload(t, app, mug).GetInt("stock") != 3 {
		t.Fatal("a refused checkout changed the stock")
	}
	if n, _ := app.CountRecords("orders"); n != 2 {
		t.Fatalf("refused checkouts left orders behind: %d orders", n)
	}

	// the buyer cancels: the session is expired at Stripe, the stock returns
	other := testutil.CreateUser(t, app, testutil.User{})
	if status, _ := srv.Do(t, http.MethodPost, "/api/salon/shop/orders/"+order.Id+"/cancel", testutil.Token(t, other), nil); status != http.StatusNotFound {
		t.Fatalf("another member cancels the order: %d", status)
	}
	status, body = srv.Do(t, http.MethodPost, "/api/salon/shop/orders/"+order.Id+"/cancel", token, nil)
	if status != http.StatusOK || testutil.Reload(t, app, order).GetString("status") != "canceled" || testutil.Reload(t, app, mug).GetInt("stock") != 5 {
		t.Fatalf("cancel: %d %s stock %d", status, body, testutil.Reload(t, app, mug).GetInt("stock"))
	}
	if status, _ := srv.Do(t, http.MethodPost, "/api/salon/shop/orders/"+order.Id+"/cancel", token, nil); status != http.StatusBadRequest {
		t.Fatalf("cancel twice: %d", status)
	}
	if testutil.Reload(t, app, mug).GetInt("stock") != 5 {
		t.Fatal("a second cancel returned the stock twice")
	}
}

// 50 members race for the last 3 items over real HTTP: exactly 3 get a
// reservation, the others hear "sold out", and the stock ends at 0.
func TestShopNoOverselling(t *testing.T) {
	app := testutil.NewApp(t)
	testutil.EnablePayments(t, app)
	srv := testutil.Serve(t, app)
	last := testutil.NewProduct(t, app, map[string]any{"name": "Last three", "stock": 3})
	tokens := make([]string, 50)
	for i := range tokens {
		tokens[i] = testutil.Token(t, testutil.CreateUser(t, app, testutil.User{}))
	}

	var wg sync.WaitGroup
	statuses := make([]int, len(tokens))
	start := make(chan struct{})
	for i, token := range tokens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			statuses[i], _ = srv.Do(t, http.MethodPost, "/api/salon/shop/checkout", token, map[string]any{"product": last.Id, "quantity": 1})
		}()
	}
	close(start)
	wg.Wait()

	count := map[int]int{}
	for _, s := range statuses {
		count[s]++
	}
	if count[http.StatusOK] != 3 || count[http.StatusConflict] != 47 {
		t.Fatalf("statuses: %v", count)
	}
	held, err := app.CountRecords("orders", testutil.DbxHash("product", last.Id), testutil.DbxHash("status", "pending"))
	if err != nil || held != 3 {
		t.Fatalf("pending orders: %d %v", held, err)
	}
	if left := testutil.Reload(t, app, last).GetInt("stock"); left != 0 {
		t.Fatalf("stock left: %d", left)
	}
}

func TestShopOrdersVisibilityAndCSV(t *testing.T) {
	app := testutil.NewApp(t)
	testutil.EnablePayments(t, app)
	srv := testutil.Serve(t, app)
	alice := testutil.CreateUser(t, app, testutil.User{Name: "=HYPERLINK(evil)"})
	bob := testutil.CreateUser(t, app, testutil.User{})
	admin := testutil.CreateUser(t, app, testutil.User{Role: "admin"})
	p := testutil.NewProduct(t, app, nil)
	for _, u := range []string{testutil.Token(t, alice), testutil.Token(t, bob)} {
		if status, body := srv.Do(t, http.MethodPost, "/api/salon/shop/checkout", u, map[string]any{"product": p.Id}); status != http.StatusOK {
			t.Fatalf("checkout: %d %s", status, body)
		}
	}
	url := "/api/collections/orders/records"
	for token, want := range map[string]int{testutil.Token(t, alice): 1, testutil.Token(t, bob): 1, testutil.Token(t, admin): 2, "": 0} {
		status, body := srv.Do(t, http.MethodGet, url, token, nil)
		if status != http.StatusOK || testutil.Decode[testutil.List[map[string]any]](t, body).TotalItems != want {
			t.Errorf("orders list: want %d, got %d %s", want, status, body)
		}
	}
	aliceOrder, _ := app.FindFirstRecordByData("orders", "user", alice.Id)
	if status, _ := srv.Do(t, http.MethodGet, url+"/"+aliceOrder.Id, testutil.Token(t, bob), nil); status != http.StatusNotFound {
		t.Errorf("bob views alice's order: %d", status)
	}
	// nobody writes orders through the API
	if status, _ := srv.Do(t, http.MethodPatch, url+"/"+aliceOrder.Id, testutil.Token(t, alice), map[string]any{"status": "paid"}); status == http.StatusOK {
		t.Error("alice marked her own order paid")
	}
	if status, _ := srv.Do(t, http.MethodPost, url, testutil.Token(t, alice), map[string]any{"user": alice.Id, "quantity": 1, "status": "paid"}); status == http.StatusOK {
		t.Error("alice created a paid order")
	}

	// CSV export: admins only
	if status, _ := srv.Do(t, http.MethodGet, "/api/salon/shop/orders.csv", testutil.Token(t, alice), nil); status != http.StatusForbidden {
		t.Fatalf("member exports sales: %d", status)
	}
	if status, _ := srv.Do(t, http.MethodGet, "/api/salon/shop/orders.csv", "", nil); status != http.StatusUnauthorized {
		t.Fatalf("anonymous exports sales: %d", status)
	}
	if status, _ := srv.Do(t, http.MethodGet, "/api/salon/shop/orders.csv?from=yesterday", testutil.Token(t, admin), nil); status != http.StatusBadRequest {
		t.Fatalf("bad date: %d", status)
	}
	status, body := srv.Do(t, http.MethodGet, "/api/salon/shop/orders.csv?status=pending&from="+time.Now().UTC().Format(time.DateOnly), testutil.Token(t, admin), nil)
	if status != http.StatusOK {
		t.Fatalf("csv: %d %s", status, body)
	}
	rows, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
	if err != nil || len(rows) != 3 {
		t.Fatalf("csv rows: %v %v", rows, err)
	}
	joined := string(body)
	if !strings.Contains(joined, "'=HYPERLINK(evil)") || !strings.Contains(joined, "1500 JPY") || !strings.Contains(joined, alice.Email()) {
		t.Fatalf("csv content: %s", body)
	}
	status, body = srv.Do(t, http.MethodGet, "/api/salon/shop/orders.csv?status=paid", testutil.Token(t, admin), nil)
	if rows, _ := csv.NewReader(strings.NewReader(string(body))).ReadAll(); status != http.StatusOK || len(rows) != 1 {
		t.Fatalf("csv of paid orders: %d %s", status, body)
	}
}

func TestShopProductValidation(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	admin := testutil.Token(t, testutil.CreateUser(t, app, testutil.User{Role: "admin"}))
	url := "/api/collections/products/records"
	base := func(extra map[string]any) map[string]any {
		b := map[string]any{"name": "Print", "price": 1500, "currency": "JPY", "stock": 3, "active": true}
		for k, v := range extra {
			b[k] = v
		}
		return b
	}
	for name, c := range map[string]struct {
		body map[string]any
		msg  string
	}{
		"unknown rank":        {base(map[string]any{"rank_prices": map[string]any{"Diamond": 100}}), "no rank named"},
		"not a map":           {base(map[string]any{"rank_discounts": []int{10}}), "must map rank names"},
		"discount over 100%":  {base(map[string]any{"rank_discounts": map[string]any{"Gold": 150}}), "not valid"},
		"fractional yen":      {base(map[string]any{"rank_prices": map[string]any{"Gold": 10.5}}), "not valid"},
		"window backwards":    {base(map[string]any{"sale_starts": "2030-01-02 00:00:00Z", "sale_ends": "2030-01-01 00:00:00Z"}), "must be after sale_starts"},
		"three-decimal price": {base(map[string]any{"currency": "kwd", "price": 1995}), "multiples of 10"},
		"zero price":          {base(map[string]any{"price": 0}), ""},
	} {
		status, body := srv.Do(t, http.MethodPost, url, admin, c.body)
		if status != http.StatusBadRequest || !strings.Contains(string(body), c.msg) {
			t.Errorf("%s: want 400 %q, got %d %s", name, c.msg, status, body)
		}
	}
	status, body := srv.Do(t, http.MethodPost, url, admin, base(map[string]any{"rank_prices": map[string]any{"Gold": 1200}}))
	if status != http.StatusOK || !strings.Contains(string(body), `"currency":"jpy"`) {
		t.Fatalf("valid product: %d %s", status, body)
	}
	member := testutil.Token(t, testutil.CreateUser(t, app, testutil.User{}))
	if status, body := srv.Do(t, http.MethodPost, url, member, base(nil)); status != http.StatusForbidden || !strings.Contains(string(body), `"code":"admins_only"`) {
		t.Fatalf("member creates a product: %d %s", status, body)
	}
}

// If Stripe cannot create the session, the member hears it and nothing
// stays reserved.
func TestShopCheckoutWhenStripeFails(t *testing.T) {
	app := testutil.NewApp(t)
	testutil.EnablePayments(t, app)
	srv := testutil.Serve(t, app)
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	t.Setenv("STRIPE_API_BASE", down.URL)
	buyer := testutil.CreateUser(t, app, testutil.User{})
	p := testutil.NewProduct(t, app, map[string]any{"stock": 1})

	status, body := srv.Do(t, http.MethodPost, "/api/salon/shop/checkout", testutil.Token(t, buyer), map[string]any{"product": p.Id})
	if status != http.StatusBadGateway || !strings.Contains(string(body), "payment provider") {
		t.Fatalf("checkout with Stripe down: %d %s", status, body)
	}
	if testutil.Reload(t, app, p).GetInt("stock") != 1 {
		t.Fatal("the failed checkout kept the stock")
	}
	order, err := app.FindFirstRecordByData("orders", "user", buyer.Id)
	if err != nil || order.GetString("status") != "failed" || order.GetBool("stock_held") {
		t.Fatalf("failed order: %v %v", order, err)
	}
}

func TestProductSaleState(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	now := time.Now()
	at := func(d time.Duration) types.DateTime { dt, _ := types.ParseDateTime(now.Add(d)); return dt }
	for want, values := range map[payments.SaleState]map[string]any{
		payments.SaleAvailable: {"sale_starts": at(-time.Hour), "sale_ends": at(time.Hour)},
		payments.SaleNotYet:    {"sale_starts": at(time.Minute)},
		payments.SaleEnded:     {"sale_ends": at(0)},
		payments.SaleSoldOut:   {"stock": 0},
		payments.SaleInactive:  {"active": false, "stock": 0},
	} {
		p := testutil.NewProduct(t, app, values)
		if got := payments.ProductSaleState(p, now); got != want {
			t.Errorf("%v: got %s, want %s", values, got, want)
		}
	}
	unlimited := testutil.NewProduct(t, app, map[string]any{"stock": 0, "unlimited": true})
	if got := payments.ProductSaleState(unlimited, now); got != payments.SaleAvailable {
		t.Errorf("unlimited product: %s", got)
	}
}

// The shop asks first whether payments can work, and says so.
func TestShopStatus(t *testing.T) {
	t.Setenv("STRIPE_SECRET_KEY", "")
	t.Setenv("STRIPE_WEBHOOK_SECRET", "")
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	member := testutil.CreateUser(t, app, testutil.User{})
	token := testutil.Token(t, member)
	if status, body := srv.Do(t, http.MethodGet, "/api/salon/shop/status", token, nil); status != 200 || string(body) != `{"payments":false}` {
		t.Fatalf("without keys: %d %s", status, body)
	}
	status, body := srv.Do(t, http.MethodPost, "/api/salon/shop/checkout", token, map[string]any{"product": "x", "quantity": 1})
	if status != http.StatusServiceUnavailable || !strings.Contains(string(body), `"payments_off"`) {
		t.Fatalf("checkout without keys carries its code: %d %s", status, body)
	}
	testutil.UpdateSettings(t, app, map[string]any{"stripe_secret_key": testutil.TestSecretKey, "stripe_webhook_secret": testutil.TestWebhookSecret})
	if status, body := srv.Do(t, http.MethodGet, "/api/salon/shop/status", token, nil); status != 200 || string(body) != `{"payments":true}` {
		t.Fatalf("with keys: %d %s", status, body)
	}
	if status, _ := srv.Do(t, http.MethodGet, "/api/salon/shop/status", "", nil); status != 401 {
		t.Fatalf("anonymous: %d", status)
	}
}
