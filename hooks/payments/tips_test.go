package payments_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"

	"salonbase/hooks/payments"
	"salonbase/testutil"
)

// liveStreams returns the media server's live_streams collection; where its
// migration is missing, the test creates the fields tips rely on (host,
// status, min_rank, tips_enabled), as that migration does.
func liveStreams(t *testing.T, app core.App) *core.Collection {
	t.Helper()
	if c, err := app.FindCollectionByNameOrId("live_streams"); err == nil {
		return c
	}
	users, _ := app.FindCollectionByNameOrId("users")
	ranks, _ := app.FindCollectionByNameOrId("ranks")
	c := core.NewBaseCollection("live_streams")
	c.Fields.Add(
		&core.RelationField{Name: "host", CollectionId: users.Id, MaxSelect: 1, Required: true},
		&core.TextField{Name: "title"},
		&core.SelectField{Name: "status", MaxSelect: 1, Values: []string{"scheduled", "live", "ended"}},
		&core.RelationField{Name: "min_rank", CollectionId: ranks.Id, MaxSelect: 1},
		&core.BoolField{Name: "tips_enabled"},
	)
	if err := app.Save(c); err != nil {
		t.Fatal(err)
	}
	return c
}

func newStream(t *testing.T, app core.App, values map[string]any) *core.Record {
	t.Helper()
	r := testutil.NewRecord(liveStreams(t, app), values)
	if err := app.Save(r); err != nil {
		t.Fatalf("save stream: %v", err)
	}
	return r
}

func TestCheckTip(t *testing.T) {
	t.Parallel()
	l := payments.TipLimits{Currency: "jpy", Min: 100, Max: 50000}
	for amount, ok := range map[int64]bool{99: false, 100: true, 50000: true, 50001: false, 0: false, -5: false} {
		if err := payments.CheckTip(l, amount); (err == nil) != ok {
			t.Errorf("tip %d: err %v", amount, err)
		}
	}
	if err := payments.CheckTip(payments.TipLimits{Currency: "kwd", Min: 10, Max: 1000}, 155); err == nil {
		t.Error("three-decimal tips must be multiples of 10")
	}
}

func TestTips(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	testutil.EnablePayments(t, app)
	srv := testutil.Serve(t, app)
	host := testutil.CreateUser(t, app, testutil.User{Name: "Host", Role: "tutor"})
	fan := testutil.CreateUser(t, app, testutil.User{Name: "Fan", Rank: "Gold"})
	viewer := testutil.CreateUser(t, app, testutil.User{Rank: "Silver"})
	lowRank := testutil.CreateUser(t, app, testutil.User{Rank: "Free"})
	pest := testutil.CreateUser(t, app, testutil.User{Rank: "Gold"})
	admin := testutil.CreateUser(t, app, testutil.User{Role: "admin"})
	if err := app.Save(testutil.NewRecord(testutil.MustCollection(t, app, "blocks"), map[string]any{"user": host.Id, "blocked": pest.Id})); err != nil {
		t.Fatal(err)
	}
	silver := testutil.RankID(t, app, "Silver")
	live := newStream(t, app, map[string]any{"host": host.Id, "title": "Live", "status": "live", "tips_enabled": true, "min_rank": silver})
	noTips := newStream(t, app, map[string]any{"host": host.Id, "status": "live", "tips_enabled": false})
	ended := newStream(t, app, map[string]any{"host": host.Id, "status": "ended", "tips_enabled": true})
	fanToken := testutil.Token(t, fan)
	tipURL := func(id string) string { return "/api/salon/live/" + id + "/tips" }

	rt := srv.Subscribe(t, testutil.Token(t, viewer), "tips")
	lowRT := srv.Subscribe(t, testutil.Token(t, lowRank), "tips")

	status, body := srv.Do(t, http.MethodPost, tipURL(live.Id), fanToken, map[string]any{"amount": 500, "message": "  Great show!  "})
	if status != http.StatusOK {
		t.Fatalf("tip: %d %s", status, body)
	}
	res := testutil.Decode[map[string]any](t, body)
	if !strings.HasPrefix(res["url"].(string), "https://checkout.stripe.com/") || res["amount"] != float64(500) || res["currency"] != "jpy" {
		t.Fatalf("tip result: %v", res)
	}
	tip, err := app.FindRecordById("tips", res["tip"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if tip.GetString("status") != "pending" || tip.GetString("to") != host.Id || tip.GetString("message") != "Great show!" || tip.GetString("stream") != live.Id {
		t.Fatalf("tip record: %v", tip.PublicExport())
	}

	for _, c := range []struct {
		name  string
		token string
		url   string
		body  any
		want  int
		msg   string
	}{
		{"too small", fanToken, tipURL(live.Id), map[string]any{"amount": 50}, 400, "between 100 JPY and 50000 JPY"},
		{"too large", fanToken, tipURL(live.Id), map[string]any{"amount": 50001}, 400, "between"},
		{"long message", fanToken, tipURL(live.Id), map[string]any{"amount": 500, "message": strings.Repeat("a", 201)}, 400, "200 characters"},
		{"to yourself", testutil.Token(t, host), tipURL(live.Id), map[string]any{"amount": 500}, 400, "yourself"},
		{"stream ended", fanToken, tipURL(ended.Id), map[string]any{"amount": 500}, 409, "not live"},
		{"tips off", fanToken, tipURL(noTips.Id), map[string]any{"amount": 500}, 403, "turned off"},
		{"rank too low", testutil.Token(t, lowRank), tipURL(live.Id), map[string]any{"amount": 500}, 404, "No such live stream"},
		{"unknown stream", fanToken, tipURL("nosuchstream123"), map[string]any{"amount": 500}, 404, "No such live stream"},
		{"blocked by host", testutil.Token(t, pest), tipURL(live.Id), map[string]any{"amount": 500}, 403, "cannot tip"},
		{"anonymous", "", tipURL(live.Id), map[string]any{"amount": 500}, 401, ""},
	} {
		status, body := srv.Do(t, http.MethodPost, c.url, c.token, c.body)
		if status != c.want || !strings.Contains(string(body), c.msg) {
			t.Errorf("%s: want %d %q, got %d %s", c.name, c.want, c.msg, status, body)
		}
	}
	if n, _ := app.CountRecords("tips"); n != 1 {
		t.Fatalf("refused tips left records: %d", n)
	}

	// unpaid: the tipper and the host see it, other members do not; only
	// the tipper sees the payment details
	count := func(token string) (int, string) {
		_, body := srv.Do(t, http.MethodGet, "/api/collections/tips/records", token, nil)
		return testutil.Decode[testutil.List[map[string]any]](t, body).TotalItems, string(body)
	}
	if n, body := count(fanToken); n != 1 || !strings.Contains(body, "checkout.stripe.com") {
		t.Fatalf("tipper sees %d: %s", n, body)
	}
	if n, body := count(testutil.Token(t, host)); n != 1 || strings.Contains(body, "checkout.stripe.com") || strings.Contains(body, "cs_") {
		t.Fatalf("host sees %d: %s", n, body)
	}
	if n, _ := count(testutil.Token(t, viewer)); n != 0 {
		t.Fatal("a viewer sees an unpaid tip")
	}

	// Stripe says paid: the host is notified, every viewer sees it live
	ev := testutil.StripeEvent("checkout.session.completed", map[string]any{
		"id": tip.GetString("stripe_session"), "object": "checkout.session", "status": "complete", "payment_status": "paid",
		"amount_total": 500, "currency": "jpy", "payment_intent": "pi_tip_" + tip.Id,
		"metadata": map[string]string{"salon_kind": "tips", "salon_id": tip.Id},
	})
	if status, body := testutil.PostWebhook(t, srv, ev, testutil.TestWebhookSecret, time.Now()); status != http.StatusOK || !strings.Contains(string(body), `"paid"`) {
		t.Fatalf("webhook: %d %s", status, body)
	}
	if testutil.Reload(t, app, tip).GetString("status") != "paid" || countNotes(t, app, host.Id, "tip_received") != 1 {
		t.Fatal("paid tip: status or host notification missing")
	}
	got, ok := rt.Next(5 * time.Second)
	if !ok {
		t.Fatal("the viewer received no realtime event")
	}
	var msg struct {
		Action string         `json:"action"`
		Record map[string]any `json:"record"`
	}
	if err := json.Unmarshal(got.Data, &msg); err != nil {
		t.Fatal(err)
	}
	// the first event is the paid tip: the pending one was never sent
	if msg.Record["status"] != "paid" || msg.Record["message"] != "Great show!" || msg.Record["stripe_session"] != nil {
		t.Fatalf("realtime tip: %s", got.Data)
	}
	if n, _ := count(testutil.Token(t, viewer)); n != 1 {
		t.Fatal("a viewer must see a paid tip")
	}
	// a paid tip follows its stream: a member below the stream's rank sees
	// neither the tip nor its message, in lists, views or realtime
	lowToken := testutil.Token(t, lowRank)
	if n, body := count(lowToken); n != 0 || strings.Contains(body, "Great show") {
		t.Fatalf("a Free member sees a tip on a Silver stream: %s", body)
	}
	if status, body := srv.Do(t, http.MethodGet, "/api/collections/tips/records/"+tip.Id, lowToken, nil); status != http.StatusNotFound {
		t.Fatalf("a Free member views a tip on a Silver stream: %d %s", status, body)
	}
	if got, ok := lowRT.Next(time.Second); ok {
		t.Fatalf("a Free member received the tip live: %s", got.Data)
	}
	// the host cannot probe the payment details with a filter
	for _, q := range []string{"note~'a'", "stripe_session~'cs_'", "checkout_url~'stripe'"} {
		status, body := srv.Do(t, http.MethodGet, "/api/collections/tips/records?filter="+testutil.Urlq(q), testutil.Token(t, host), nil)
		if status != http.StatusBadRequest || !strings.Contains(string(body), `"private_field"`) {
			t.Errorf("host filters tips by %s: %d %s", q, status, body)
		}
	}
	// and it stands in the stream's chat, once, for every viewer
	_, chat := srv.Do(t, http.MethodGet, "/api/collections/live_chat_messages/records?filter="+testutil.Urlq("tip='"+tip.Id+"'"), testutil.Token(t, viewer), nil)
	if l := testutil.Decode[testutil.List[map[string]any]](t, chat); l.TotalItems != 1 || !strings.Contains(l.Items[0]["body"].(string), "Great show!") {
		t.Fatalf("tip chat line: %s", chat)
	}
	if status, _ := testutil.PostWebhook(t, srv, ev, testutil.TestWebhookSecret, time.Now()); status != http.StatusOK {
		t.Fatal("replayed webhook")
	}
	if n, _ := app.CountRecords("live_chat_messages", dbx.HashExp{"tip": tip.Id}); n != 1 {
		t.Fatalf("a replayed event must not repeat the chat line: %d", n)
	}
	// members cannot fake a tip line
	if status, _ := srv.Do(t, http.MethodPost, "/api/collections/live_chat_messages/records", fanToken,
		map[string]any{"stream": live.Id, "author": fan.Id, "body": "I tipped a million", "tip": tip.Id}); status != http.StatusBadRequest {
		t.Fatalf("forged tip line: want 400, got %d", status)
	}
	if status, body := srv.Do(t, http.MethodPost, "/api/collections/live_chat_messages/records", fanToken,
		map[string]any{"stream": live.Id, "author": fan.Id, "body": "Great show"}); status != http.StatusOK {
		t.Fatalf("plain chat line: %d %s", status, body)
	}

	// totals: the host and admins, net of refunds
	srv.Do(t, http.MethodPost, tipURL(live.Id), fanToken, map[string]any{"amount": 1000}) // never paid
	refund := testutil.StripeEvent("charge.refunded", map[string]any{"id": "ch_tip", "object": "charge", "amount": 500, "amount_refunded": 200, "currency": "jpy", "payment_intent": "pi_tip_" + tip.Id})
	if status, body := testutil.PostWebhook(t, srv, refund, testutil.TestWebhookSecret, time.Now()); status != http.StatusOK {
		t.Fatalf("refund: %d %s", status, body)
	}
	totalsURL := "/api/salon/live/" + live.Id + "/tips/totals"
	for token, want := range map[string]int{testutil.Token(t, host): 200, testutil.Token(t, admin): 200, fanToken: 404, "": 401} {
		status, body := srv.Do(t, http.MethodGet, totalsURL, token, nil)
		if status != want {
			t.Errorf("stream totals: want %d got %d %s", want, status, body)
		}
		if status == 200 && !strings.Contains(string(body), `"totals":[{"currency":"jpy","count":1,"amount":300}]`) {
			t.Errorf("stream totals: %s", body)
		}
	}
	status, body = srv.Do(t, http.MethodGet, "/api/salon/tips/totals", testutil.Token(t, host), nil)
	if status != 200 || !strings.Contains(string(body), `"amount":300`) {
		t.Fatalf("host totals: %d %s", status, body)
	}
	if status, _ := srv.Do(t, http.MethodGet, "/api/salon/tips/totals?host="+host.Id, fanToken, nil); status != http.StatusForbidden {
		t.Fatalf("a fan reads the host's totals: %d", status)
	}
	if status, body := srv.Do(t, http.MethodGet, "/api/salon/tips/totals?host="+host.Id, testutil.Token(t, admin), nil); status != 200 || !strings.Contains(string(body), `"amount":300`) {
		t.Fatalf("admin reads host totals: %d %s", status, body)
	}
}

func TestTipsWithoutKeysOrStreams(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	fan := testutil.Token(t, testutil.CreateUser(t, app, testutil.User{}))
	status, body := srv.Do(t, http.MethodPost, "/api/salon/live/anystream/tips", fan, map[string]any{"amount": 500})
	if status != http.StatusServiceUnavailable || !strings.Contains(string(body), "payments are not configured") {
		t.Fatalf("tips without keys: %d %s", status, body)
	}
	testutil.UpdateSettings(t, app, map[string]any{"stripe_secret_key": testutil.TestSecretKey})
	status, body = srv.Do(t, http.MethodPost, "/api/salon/live/anystream12345/tips", fan, map[string]any{"amount": 500})
	if status != http.StatusNotFound {
		t.Fatalf("tip to a missing stream: %d %s", status, body)
	}
}
