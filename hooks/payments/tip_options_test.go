package payments_test

import (
	"net/http"
	"strings"
	"testing"

	"salonbase/testutil"
)

// The tip button's question: may I tip this stream now, within which
// limits? Asked from every side: a viewer who may tip, the host, a member
// the host blocked, a member below the stream's rank, a stream without
// tips, an ended stream, no payments configured, nobody signed in.
func TestTipOptions(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	testutil.UpdateSettings(t, app, map[string]any{"tip_currency": "jpy", "tip_min": 100, "tip_max": 30000, "tip_presets": []int{300, 1000}})
	host := testutil.CreateUser(t, app, testutil.User{Name: "Host", Role: "tutor"})
	fan := testutil.CreateUser(t, app, testutil.User{Rank: "Gold"})
	low := testutil.CreateUser(t, app, testutil.User{Rank: "Free"})
	pest := testutil.CreateUser(t, app, testutil.User{Rank: "Gold"})
	if err := app.Save(testutil.NewRecord(testutil.MustCollection(t, app, "blocks"), map[string]any{"user": host.Id, "blocked": pest.Id})); err != nil {
		t.Fatal(err)
	}
	silver := testutil.RankID(t, app, "Silver")
	live := newStream(t, app, map[string]any{"host": host.Id, "title": "Live", "status": "live", "tips_enabled": true, "min_rank": silver})
	noTips := newStream(t, app, map[string]any{"host": host.Id, "status": "live", "tips_enabled": false})
	ended := newStream(t, app, map[string]any{"host": host.Id, "status": "ended", "tips_enabled": true})
	url := func(id string) string { return "/api/salon/live/" + id + "/tips/options" }
	type answer struct {
		Available bool
		Currency  string
		Decimals  int
		Min, Max  int64
		Presets   []int64
	}
	ask := func(token, id string) answer {
		t.Helper()
		status, body := srv.Do(t, http.MethodGet, url(id), token, nil)
		if status != http.StatusOK {
			t.Fatalf("options of %s: %d %s", id, status, body)
		}
		if strings.Contains(string(body), "sk_") || strings.Contains(string(body), "whsec_") {
			t.Fatalf("options leak a key: %s", body)
		}
		return testutil.Decode[answer](t, body)
	}

	// payments not configured: nobody gets a tip button
	if a := ask(testutil.Token(t, fan), live.Id); a.Available {
		t.Fatalf("without payments: %+v", a)
	}

	testutil.EnablePayments(t, app)
	a := ask(testutil.Token(t, fan), live.Id)
	if !a.Available || a.Currency != "jpy" || a.Decimals != 0 || a.Min != 100 || a.Max != 30000 || len(a.Presets) != 2 || a.Presets[1] != 1000 {
		t.Fatalf("fan: %+v", a)
	}
	for name, c := range map[string]struct{ token, id string }{
		"the host":        {testutil.Token(t, host), live.Id},
		"blocked by host": {testutil.Token(t, pest), live.Id},
		"tips off":        {testutil.Token(t, fan), noTips.Id},
		"stream ended":    {testutil.Token(t, fan), ended.Id},
	} {
		if a := ask(c.token, c.id); a.Available {
			t.Errorf("%s: offered a tip: %+v", name, a)
		}
	}

	// who may not see the stream learns nothing about it
	testutil.WantStatus(t, srv, http.MethodGet, url(live.Id), testutil.Token(t, low), nil, http.StatusNotFound, "No such live stream.")
	testutil.WantStatus(t, srv, http.MethodGet, url("nosuchstream123"), testutil.Token(t, fan), nil, http.StatusNotFound, "No such live stream.")
	testutil.WantStatus(t, srv, http.MethodGet, url(live.Id), "", nil, http.StatusUnauthorized, "")
}
