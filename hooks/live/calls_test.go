package live_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/hook"
	"github.com/pocketbase/pocketbase/tools/types"

	"salonbase/rtc/rtctest"
	"salonbase/testutil"
)

func TestCallEndToEnd(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	ann := testutil.CreateUser(t, app, testutil.User{Name: "Ann", Rank: "Gold"})
	bob := testutil.CreateUser(t, app, testutil.User{Name: "Bob", Rank: "Gold"})
	eve := testutil.CreateUser(t, app, testutil.User{Rank: "Platinum"})
	srv := serveRTC(t, app)
	annTok, bobTok, eveTok := testutil.Token(t, ann), testutil.Token(t, bob), testutil.Token(t, eve)

	// bob hears of the call through realtime.
	rt := srv.Subscribe(t, bobTok, "calls")
	status, body := srv.Do(t, http.MethodPost, "/api/collections/calls/records", annTok, map[string]any{
		"caller": ann.Id, "callee": bob.Id, "status": "active"})
	if status != http.StatusOK {
		t.Fatalf("call: %d %s", status, body)
	}
	call := testutil.Decode[map[string]any](t, body)
	id := call["id"].(string)
	if call["status"] != "ringing" {
		t.Fatalf("new call status %v", call["status"])
	}
	ev, ok := rt.Next(5 * time.Second)
	if !ok || !strings.Contains(string(ev.Data), `"action":"create"`) || !strings.Contains(string(ev.Data), id) {
		t.Fatalf("bob's realtime: %v %s", ok, ev.Data)
	}

	base := srv.URL + "/api/rtc/calls/" + id + "/"
	// The caller may connect while it rings; the callee only after accepting.
	annOut := rtctest.Publish(t, base+"publish", annTok)
	if annOut.Result.Status != http.StatusCreated {
		t.Fatalf("ann publishes: %d %s", annOut.Result.Status, annOut.Result.Body)
	}
	if early := rtctest.View(t, base+"subscribe", bobTok); early.Result.Status != http.StatusConflict {
		t.Fatalf("bob before accepting: %d %s", early.Result.Status, early.Result.Body)
	}
	// Only the callee accepts.
	if status, _ := srv.Do(t, http.MethodPatch, "/api/collections/calls/records/"+id, annTok, map[string]any{"status": "active"}); status != http.StatusBadRequest {
		t.Fatalf("caller accepts own call: %d", status)
	}
	if status, body := srv.Do(t, http.MethodPatch, "/api/collections/calls/records/"+id, bobTok, map[string]any{"status": "active"}); status != http.StatusOK {
		t.Fatalf("bob accepts: %d %s", status, body)
	}
	annIn := rtctest.View(t, base+"subscribe", annTok)
	bobOut := rtctest.Publish(t, base+"publish", bobTok)
	bobIn := rtctest.View(t, base+"subscribe", bobTok)
	for _, r := range []rtctest.Result{annIn.Result, bobOut.Result, bobIn.Result} {
		if r.Status != http.StatusCreated {
			t.Fatalf("join: %d %s", r.Status, r.Body)
		}
	}
	waitPicture(t, bobIn, "bob sees ann")
	waitPicture(t, annIn, "ann sees bob")

	// A third member: 403, on every endpoint, and no record.
	if r := rtctest.View(t, base+"subscribe", eveTok); r.Result.Status != http.StatusForbidden {
		t.Fatalf("eve subscribes: %d %s", r.Result.Status, r.Result.Body)
	}
	if r := rtctest.Publish(t, base+"publish", eveTok); r.Result.Status != http.StatusForbidden {
		t.Fatalf("eve publishes: %d %s", r.Result.Status, r.Result.Body)
	}
	if status, _ := srv.Do(t, http.MethodGet, "/api/collections/calls/records/"+id, eveTok, nil); status != http.StatusNotFound {
		t.Fatalf("eve reads the call: %d", status)
	}

	// Chat during the call is kept as DMs between the two.
	chat := "/api/salon/calls/" + id + "/messages"
	status, body = srv.Do(t, http.MethodPost, chat, annTok, map[string]any{"body": "Next session: Tuesday 19:00, 3 points agreed"})
	if status != http.StatusOK || !strings.Contains(string(body), `"recipient":"`+bob.Id+`"`) {
		t.Fatalf("chat: %d %s", status, body)
	}
	if status, body := srv.Do(t, http.MethodPost, chat, bobTok, map[string]any{"body": "OK, see you"}); status != http.StatusOK {
		t.Fatalf("bob answers: %d %s", status, body)
	}
	if status, _ := srv.Do(t, http.MethodPost, chat, eveTok, map[string]any{"body": "hi"}); status != http.StatusForbidden {
		t.Fatalf("eve writes into the call's chat: %d", status)
	}
	if status, _ := srv.Do(t, http.MethodPost, chat, annTok, map[string]any{"body": "  "}); status != http.StatusBadRequest {
		t.Fatalf("empty chat line: %d", status)
	}

	// ann hangs up: both are disconnected, the record keeps the times.
	time.Sleep(1100 * time.Millisecond) // a call of at least one second
	if status, body := srv.Do(t, http.MethodPatch, "/api/collections/calls/records/"+id, annTok, map[string]any{"status": "ended"}); status != http.StatusOK {
		t.Fatalf("hang up: %d %s", status, body)
	}
	rtctest.Eventually(t, 5*time.Second, "both disconnected", func() bool { return disconnected(annIn) && disconnected(bobIn) })
	rec := record(t, app, "calls", id)
	if rec.GetDateTime("started_at").IsZero() || rec.GetDateTime("ended_at").IsZero() || rec.GetInt("duration") < 1 {
		t.Fatalf("ended call: started %v ended %v duration %d", rec.GetDateTime("started_at"), rec.GetDateTime("ended_at"), rec.GetInt("duration"))
	}
	if r := rtctest.View(t, base+"subscribe", bobTok); r.Result.Status != http.StatusConflict {
		t.Fatalf("rejoin an ended call: %d %s", r.Result.Status, r.Result.Body)
	}
	if status, _ := srv.Do(t, http.MethodPost, chat, annTok, map[string]any{"body": "one more thing"}); status != http.StatusConflict {
		t.Fatalf("call chat after the call: %d", status)
	}
	// After the call the lines are in their DM conversation, and only there.
	dms := "/api/collections/dm_messages/records?filter=" + testutil.Urlq("sender='"+ann.Id+"' && recipient='"+bob.Id+"'")
	_, body = srv.Do(t, http.MethodGet, dms, bobTok, nil)
	if got := testutil.Decode[testutil.List[map[string]any]](t, body); got.TotalItems != 1 || !strings.Contains(got.Items[0]["body"].(string), "Tuesday") {
		t.Fatalf("bob reads the call chat after the call: %s", body)
	}
	_, body = srv.Do(t, http.MethodGet, dms, eveTok, nil)
	if got := testutil.Decode[testutil.List[map[string]any]](t, body); got.TotalItems != 0 {
		t.Fatalf("eve reads the call chat: %s", body)
	}
}

// Who may call whom is the DM policy: the same 403 reasons.
func TestCallPolicy(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	ann := testutil.CreateUser(t, app, testutil.User{Rank: "Gold"})
	bob := testutil.CreateUser(t, app, testutil.User{Rank: "Gold"})
	cat := testutil.CreateUser(t, app, testutil.User{Rank: "Gold"})
	admin := testutil.CreateUser(t, app, testutil.User{Role: "admin"})
	url := "/api/collections/calls/records"
	call := func(from, to string) (int, string) {
		status, body := srv.Do(t, http.MethodPost, url, testutil.Token(t, record(t, app, "users", from)), map[string]any{"caller": from, "callee": to})
		var e testutil.ApiError
		_ = json.Unmarshal(body, &e)
		return status, e.Message
	}

	testutil.UpdateSettings(t, app, map[string]any{"dm_mode": "off"})
	if status, msg := call(ann.Id, bob.Id); status != http.StatusForbidden || msg != "Direct messages are turned off." {
		t.Fatalf("dm_mode off: %d %q", status, msg)
	}
	testutil.UpdateSettings(t, app, map[string]any{"dm_mode": "admin_only"})
	if status, msg := call(ann.Id, bob.Id); status != http.StatusForbidden || !strings.Contains(msg, "operator") {
		t.Fatalf("admin_only: %d %q", status, msg)
	}
	if status, msg := call(ann.Id, admin.Id); status != http.StatusOK {
		t.Fatalf("calling the operator: %d %q", status, msg)
	}
	testutil.UpdateSettings(t, app, map[string]any{"dm_mode": "open"})

	// ann is busy with the admin: 409 for anyone calling her.
	if status, msg := call(bob.Id, ann.Id); status != http.StatusConflict {
		t.Fatalf("busy: %d %q", status, msg)
	}
	block := testutil.NewRecord(testutil.MustCollection(t, app, "blocks"), map[string]any{"user": cat.Id, "blocked": bob.Id})
	if err := app.Save(block); err != nil {
		t.Fatal(err)
	}
	if status, msg := call(bob.Id, cat.Id); status != http.StatusForbidden || !strings.Contains(msg, "does not accept") {
		t.Fatalf("blocked: %d %q", status, msg)
	}
	if status, _ := call(bob.Id, bob.Id); status != http.StatusBadRequest {
		t.Fatalf("calling oneself: %d", status)
	}
	// Someone else's name as caller is refused by the rule.
	status, _ := srv.Do(t, http.MethodPost, url, testutil.Token(t, bob), map[string]any{"caller": cat.Id, "callee": admin.Id})
	if status == http.StatusOK {
		t.Fatal("bob placed a call in cat's name")
	}
}

func TestCallMissedAndDeclined(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	testutil.UpdateSettings(t, app, map[string]any{"call_ring_seconds": 1})
	srv := testutil.Serve(t, app)
	ann := testutil.CreateUser(t, app, testutil.User{Name: "Ann", Rank: "Gold"})
	bob := testutil.CreateUser(t, app, testutil.User{Rank: "Gold"})
	url := "/api/collections/calls/records"

	_, body := srv.Do(t, http.MethodPost, url, testutil.Token(t, ann), map[string]any{"caller": ann.Id, "callee": bob.Id})
	missed := testutil.Decode[map[string]any](t, body)["id"].(string)
	rec := waitStatus(t, app, "calls", missed, "missed")
	if rec.GetDateTime("ended_at").IsZero() || !rec.GetDateTime("started_at").IsZero() {
		t.Fatalf("missed call times: %v", rec)
	}
	rtctest.Eventually(t, 5*time.Second, "missed call notification", func() bool {
		n, _ := app.CountRecords("notifications", dbx.HashExp{"user": bob.Id, "kind": "missed_call", "source_id": missed})
		return n == 1
	})
	// Too late to accept.
	if status, _ := srv.Do(t, http.MethodPatch, url+"/"+missed, testutil.Token(t, bob), map[string]any{"status": "active"}); status != http.StatusBadRequest {
		t.Fatalf("accept a missed call: %d", status)
	}

	_, body = srv.Do(t, http.MethodPost, url, testutil.Token(t, ann), map[string]any{"caller": ann.Id, "callee": bob.Id})
	declined := testutil.Decode[map[string]any](t, body)["id"].(string)
	status, body := srv.Do(t, http.MethodPatch, url+"/"+declined, testutil.Token(t, bob), map[string]any{"status": "declined"})
	if status != http.StatusOK {
		t.Fatalf("decline: %d %s", status, body)
	}
	var got map[string]any
	_ = json.Unmarshal(body, &got)
	if got["status"] != "declined" || got["ended_at"] == "" {
		t.Fatalf("declined call: %v", got)
	}
	time.Sleep(1500 * time.Millisecond) // past the ring timeout: stays declined
	if s := record(t, app, "calls", declined).GetString("status"); s != "declined" {
		t.Fatalf("declined call became %s", s)
	}
	// Server fields cannot be written.
	if status, _ := srv.Do(t, http.MethodPatch, url+"/"+declined, testutil.Token(t, bob), map[string]any{"duration": 3600}); status != http.StatusBadRequest {
		t.Fatalf("write duration: %d", status)
	}
}

// TestCallsPlacedAtOnceRingOnce: members who call the same member at the
// same moment, or call each other, get one ringing call between them; every
// other caller hears that someone is busy. (The busy check used to run
// outside the insert's transaction, so two could pass it together.)
func TestCallsPlacedAtOnceRingOnce(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	callee := testutil.CreateUser(t, app, testutil.User{Rank: "Gold"})
	const callers = 12
	tokens := make([]string, callers)
	ids := make([]string, callers)
	for i := range tokens {
		u := testutil.CreateUser(t, app, testutil.User{Rank: "Gold"})
		tokens[i], ids[i] = testutil.Token(t, u), u.Id
	}
	srv := testutil.Serve(t, app)

	place := func(round func(i int) (token, callee string)) map[int]int {
		statuses := make([]int, callers)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range statuses {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tok, to := round(i)
				<-start
				var body []byte
				statuses[i], body = srv.Do(t, http.MethodPost, "/api/collections/calls/records", tok, map[string]any{"caller": ids[i], "callee": to})
				if statuses[i] != http.StatusOK && statuses[i] != http.StatusConflict {
					t.Errorf("call: %d %s", statuses[i], body)
				}
			}()
		}
		close(start)
		wg.Wait()
		count := map[int]int{}
		for _, s := range statuses {
			count[s]++
		}
		return count
	}

	// everyone calls the same member
	got := place(func(i int) (string, string) { return tokens[i], callee.Id })
	if got[http.StatusOK] != 1 || got[http.StatusConflict] != callers-1 {
		t.Fatalf("%d calls to one member at once: answers %v; want one 200, the rest 409", callers, got)
	}
	if n, err := app.CountRecords("calls", dbx.HashExp{"callee": callee.Id, "status": "ringing"}); err != nil || n != 1 {
		t.Fatalf("ringing calls to the member: %d (%v), want 1", n, err)
	}

	// the member declines; then everyone in pairs, each calling the other
	// at the same moment
	ringing, err := app.FindFirstRecordByFilter("calls", "status = 'ringing'")
	if err != nil {
		t.Fatal(err)
	}
	if status, body := srv.Do(t, http.MethodPatch, "/api/collections/calls/records/"+ringing.Id, testutil.Token(t, callee), map[string]any{"status": "declined"}); status != http.StatusOK {
		t.Fatalf("decline: %d %s", status, body)
	}
	got = place(func(i int) (string, string) { return tokens[i], ids[i^1] })
	if got[http.StatusOK] != callers/2 || got[http.StatusConflict] != callers/2 {
		t.Fatalf("%d pairs calling each other at once: answers %v; want one 200 per pair", callers/2, got)
	}
}

// The callee accepts at the moment the ring timer marks the call missed
// (between PocketBase's read of the call and its save): the accept is
// refused and the call stays missed, rather than an "active" call whose
// media the server has already ended.
func TestCallAcceptedAsItIsMarkedMissedStaysMissed(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	ann := testutil.CreateUser(t, app, testutil.User{Name: "Ann", Rank: "Gold"})
	bob := testutil.CreateUser(t, app, testutil.User{Rank: "Gold"})
	url := "/api/collections/calls/records"
	_, body := srv.Do(t, http.MethodPost, url, testutil.Token(t, ann), map[string]any{"caller": ann.Id, "callee": bob.Id})
	id := testutil.Decode[map[string]any](t, body)["id"].(string)

	var once sync.Once
	app.OnRecordUpdateRequest("calls").Bind(&hook.Handler[*core.RecordRequestEvent]{
		Priority: -100, // before our hooks, after PocketBase read the call
		Func: func(e *core.RecordRequestEvent) error {
			once.Do(func() {
				call, err := app.FindRecordById("calls", id)
				if err != nil {
					t.Error(err)
					return
				}
				call.Set("status", "missed")
				call.Set("ended_at", types.NowDateTime())
				if err := app.Save(call); err != nil {
					t.Error(err)
				}
			})
			return e.Next()
		},
	})

	testutil.WantStatus(t, srv, http.MethodPatch, url+"/"+id, testutil.Token(t, bob), map[string]any{"status": "active"},
		http.StatusBadRequest, "from missed to active")
	call := record(t, app, "calls", id)
	if call.GetString("status") != "missed" || !call.GetDateTime("started_at").IsZero() || call.GetDateTime("ended_at").IsZero() {
		t.Fatalf("stored after the late accept: status %q, started %q, ended %q",
			call.GetString("status"), call.GetString("started_at"), call.GetString("ended_at"))
	}
}
