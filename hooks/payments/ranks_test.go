package payments_test

import (
	"net/http"
	"testing"

	"salonbase/hooks/salon"
	"salonbase/testutil"
)

// TestRankRenameKeepsPrices: renaming a rank in the dashboard (or as an app
// admin) keeps the rank prices and discounts that name it.
func TestRankRenameKeepsPrices(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	product := testutil.NewProduct(t, app, map[string]any{
		"rank_prices":    map[string]any{"Gold": 1200},
		"rank_discounts": map[string]any{"Silver": 10},
	})
	gold := testutil.Token(t, testutil.CreateUser(t, app, testutil.User{Rank: "Gold"}))
	silver := testutil.Token(t, testutil.CreateUser(t, app, testutil.User{Rank: "Silver"}))
	price := func(token string) float64 {
		t.Helper()
		out := testutil.WantStatus(t, srv, http.MethodGet, "/api/collections/products/records/"+product.Id, token, nil, http.StatusOK, "")
		p, _ := testutil.Decode[map[string]any](t, out)["your_price"].(float64)
		return p
	}
	if price(gold) != 1200 || price(silver) != 1350 {
		t.Fatalf("before the renames: Gold pays %v, Silver %v", price(gold), price(silver))
	}

	rename := func(token, from, to string) {
		t.Helper()
		testutil.WantStatus(t, srv, http.MethodPatch, "/api/collections/ranks/records/"+testutil.RankID(t, app, from), token,
			map[string]any{"name": to}, http.StatusOK, "")
	}
	rename(testutil.SuperuserToken(t, app), "Gold", "Gold Star")
	rename(testutil.Token(t, testutil.CreateUser(t, app, testutil.User{Role: salon.RoleAdmin})), "Silver", "Silver.1")

	if price(gold) != 1200 || price(silver) != 1350 {
		t.Fatalf("after the renames: Gold pays %v, Silver %v", price(gold), price(silver))
	}
	fresh := testutil.Reload(t, app, product)
	if got := fresh.GetString("rank_prices"); got != `{"Gold Star":1200}` {
		t.Errorf("rank_prices = %s", got)
	}
	if got := fresh.GetString("rank_discounts"); got != `{"Silver.1":10}` {
		t.Errorf("rank_discounts = %s", got)
	}
}
