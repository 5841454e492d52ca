package live_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"

	"salonbase/hooks/live"
	"salonbase/hooks/salon"
	"salonbase/rtc/rtctest"
	"salonbase/testutil"
)

// serveRTC starts a real server whose media server offers loopback
// candidates (the Pion clients of the tests run on 127.0.0.1).
func serveRTC(t *testing.T, app *tests.TestApp) *testutil.Server {
	t.Helper()
	live.Configure(app, live.Config{Loopback: true})
	return testutil.Serve(t, app)
}

func record(t *testing.T, app core.App, collection, id string) *core.Record {
	t.Helper()
	r, err := app.FindRecordById(collection, id)
	if err != nil {
		t.Fatalf("%s/%s: %v", collection, id, err)
	}
	return r
}

func waitStatus(t *testing.T, app core.App, collection, id, status string) *core.Record {
	t.Helper()
	var r *core.Record
	rtctest.Eventually(t, 10*time.Second, collection+" "+id+" status "+status, func() bool {
		r = record(t, app, collection, id)
		return r.GetString("status") == status
	})
	return r
}

func waitPicture(t *testing.T, v *rtctest.Viewer, who string) {
	t.Helper()
	rtctest.Eventually(t, 10*time.Second, who+" decodes a keyframe and hears audio", func() bool {
		s := v.Stats()
		return len(s.Keyframes) > 0 && s.AudioIsOpus
	})
	if err := rtctest.CheckPicture(v.Stats().Keyframes[0]); err != nil {
		t.Fatalf("%s: %v", who, err)
	}
}

func disconnected(v *rtctest.Viewer) bool {
	switch v.Stats().State {
	case webrtc.PeerConnectionStateClosed, webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateDisconnected:
		return true
	}
	return false
}

func TestLiveStreamEndToEnd(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	testutil.UpdateSettings(t, app, map[string]any{"live_min_rank": testutil.RankID(t, app, "Silver")})
	host := testutil.CreateUser(t, app, testutil.User{Name: "Hana", Rank: "Gold"})
	ann := testutil.CreateUser(t, app, testutil.User{Rank: "Gold"})
	bob := testutil.CreateUser(t, app, testutil.User{Rank: "Platinum"})
	low := testutil.CreateUser(t, app, testutil.User{Rank: "Bronze"})
	for _, f := range []*core.Record{ann, low} {
		follow := testutil.NewRecord(testutil.MustCollection(t, app, "follows"), map[string]any{"follower": f.Id, "followee": host.Id})
		if err := app.Save(follow); err != nil {
			t.Fatal(err)
		}
	}
	srv := serveRTC(t, app)
	hostTok, annTok, bobTok, lowTok := testutil.Token(t, host), testutil.Token(t, ann), testutil.Token(t, bob), testutil.Token(t, low)

	status, body := srv.Do(t, http.MethodPost, "/api/collections/live_streams/records", hostTok, map[string]any{
		"title": "Friday Q&A", "min_rank": testutil.RankID(t, app, "Gold"), "status": "live", "viewer_count": 99,
	})
	if status != http.StatusOK {
		t.Fatalf("create stream: %d %s", status, body)
	}
	created := testutil.Decode[map[string]any](t, body)
	id := created["id"].(string)
	if created["status"] != "scheduled" || created["host"] != host.Id || created["viewer_count"] != 0.0 {
		t.Fatalf("new stream: %v", created)
	}
	if _, leaked := created["stream_key"]; leaked {
		t.Fatal("stream_key is returned to the API")
	}

	// ann watches the record live through realtime.
	rt := srv.Subscribe(t, annTok, "live_streams/"+id)

	base := srv.URL + "/api/rtc/live/" + id
	pub := rtctest.Publish(t, base+"/whip", hostTok)
	if pub.Result.Status != http.StatusCreated {
		t.Fatalf("publish: %d %s", pub.Result.Status, pub.Result.Body)
	}
	live := waitStatus(t, app, "live_streams", id, "live")
	if live.GetDateTime("started_at").IsZero() {
		t.Fatal("started_at not set")
	}

	// Followers who may watch are told; a follower below the stream's rank is not.
	rtctest.Eventually(t, 5*time.Second, "ann notified", func() bool {
		n, _ := app.CountRecords("notifications", dbx.HashExp{"user": ann.Id, "kind": "live", "source_id": id})
		return n == 1
	})
	if n, _ := app.CountRecords("notifications", dbx.HashExp{"user": low.Id, "kind": "live"}); n != 0 {
		t.Fatal("a follower who may not watch was notified")
	}

	// Refused viewers: below the minimum rank (403 with the reason), no token (401).
	lowView := rtctest.View(t, base+"/whep", lowTok)
	if lowView.Result.Status != http.StatusForbidden || !strings.Contains(lowView.Result.Body, "Gold members and above") {
		t.Fatalf("low rank viewer: %d %s", lowView.Result.Status, lowView.Result.Body)
	}
	if anon := rtctest.View(t, base+"/whep", ""); anon.Result.Status != http.StatusUnauthorized {
		t.Fatalf("anonymous viewer: %d %s", anon.Result.Status, anon.Result.Body)
	}
	// Nobody but the host publishes.
	if other := rtctest.Publish(t, base+"/whip", annTok); other.Result.Status != http.StatusForbidden {
		t.Fatalf("ann publishes: %d %s", other.Result.Status, other.Result.Body)
	}

	annView := rtctest.View(t, base+"/whep", annTok)
	bobView := rtctest.View(t, base+"/whep", bobTok)
	waitPicture(t, annView, "ann")
	waitPicture(t, bobView, "bob")

	// viewer_count reaches 2, and realtime subscribers see it.
	deadline := time.Now().Add(10 * time.Second)
	for seen := false; !seen; {
		ev, ok := rt.Next(time.Until(deadline))
		if !ok {
			t.Fatal("no realtime update with viewer_count 2")
		}
		var msg struct {
			Record map[string]any `json:"record"`
		}
		_ = json.Unmarshal(ev.Data, &msg)
		seen = msg.Record["viewer_count"] == 2.0
	}

	// ann's rank is lowered: she is cut off within seconds, bob stays.
	ann.Set("rank", testutil.RankID(t, app, "Bronze"))
	if err := app.Save(ann); err != nil {
		t.Fatal(err)
	}
	rtctest.Eventually(t, 10*time.Second, "ann cut off", func() bool { return disconnected(annView) })
	rtctest.Eventually(t, 5*time.Second, "viewer_count 1", func() bool {
		return record(t, app, "live_streams", id).GetInt("viewer_count") == 1
	})
	if disconnected(bobView) {
		t.Fatal("bob was cut off with ann")
	}

	// The host ends the stream with DELETE on the WHIP resource.
	if res := rtctest.Do(t, http.MethodDelete, srv.URL+pub.Result.Location, hostTok, "", ""); res.Status != http.StatusOK {
		t.Fatalf("DELETE: %d %s", res.Status, res.Body)
	}
	ended := waitStatus(t, app, "live_streams", id, "ended")
	if ended.GetDateTime("ended_at").IsZero() || ended.GetInt("viewer_count") != 0 {
		t.Fatalf("ended stream: ended_at=%v viewers=%d", ended.GetDateTime("ended_at"), ended.GetInt("viewer_count"))
	}
	rtctest.Eventually(t, 5*time.Second, "bob disconnected", func() bool { return disconnected(bobView) })
	// An ended stream does not come back.
	if again := rtctest.Publish(t, base+"/whip", hostTok); again.Result.Status != http.StatusConflict {
		t.Fatalf("publish to an ended stream: %d %s", again.Result.Status, again.Result.Body)
	}
}

func TestLiveStreamKeyForOBS(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	host := testutil.CreateUser(t, app, testutil.User{Role: salon.RoleTutor})
	ann := testutil.CreateUser(t, app, testutil.User{})
	srv := serveRTC(t, app)
	hostTok := testutil.Token(t, host)

	_, body := srv.Do(t, http.MethodPost, "/api/collections/live_streams/records", hostTok, map[string]any{"title": "Studio"})
	id := testutil.Decode[map[string]any](t, body)["id"].(string)

	// Only the host sees the key; others get 404 as if it did not exist.
	if status, _ := srv.Do(t, http.MethodGet, "/api/salon/live/"+id+"/key", testutil.Token(t, ann), nil); status != http.StatusNotFound {
		t.Fatalf("ann reads the key: %d", status)
	}
	status, body := srv.Do(t, http.MethodGet, "/api/salon/live/"+id+"/key", hostTok, nil)
	key := testutil.Decode[map[string]string](t, body)
	if status != http.StatusOK || !strings.HasPrefix(key["stream_key"], "sk_") || key["whip_url"] != "/api/rtc/live/"+id+"/whip" {
		t.Fatalf("key: %d %s", status, body)
	}

	// A wrong key is refused; the right one publishes (as OBS does).
	if bad := rtctest.Publish(t, srv.URL+key["whip_url"], "sk_wrong"); bad.Result.Status != http.StatusUnauthorized {
		t.Fatalf("wrong key: %d %s", bad.Result.Status, bad.Result.Body)
	}
	pub := rtctest.Publish(t, srv.URL+key["whip_url"], key["stream_key"])
	if pub.Result.Status != http.StatusCreated {
		t.Fatalf("publish with key: %d %s", pub.Result.Status, pub.Result.Body)
	}
	waitStatus(t, app, "live_streams", id, "live")

	// Rotating the key does not cut the running stream, but the old key is dead.
	_, body = srv.Do(t, http.MethodPost, "/api/salon/live/"+id+"/key", hostTok, nil)
	if testutil.Decode[map[string]string](t, body)["stream_key"] == key["stream_key"] {
		t.Fatal("key not rotated")
	}
	// The host closes OBS without DELETE: the stream ends on its own once
	// the media server's rejoin window (15 s) has passed.
	pub.Close()
	rtctest.Eventually(t, 30*time.Second, "stream ended after the rejoin window", func() bool {
		return record(t, app, "live_streams", id).GetString("status") == "ended"
	})
}

func TestLiveStreamRules(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	srv := testutil.Serve(t, app)
	member := testutil.CreateUser(t, app, testutil.User{Rank: "Gold"})
	tutor := testutil.CreateUser(t, app, testutil.User{Role: salon.RoleTutor})
	low := testutil.CreateUser(t, app, testutil.User{Rank: "Bronze"})
	gold := testutil.CreateUser(t, app, testutil.User{Rank: "Gold"})
	url := "/api/collections/live_streams/records"

	if status, body := srv.Do(t, http.MethodPost, url, testutil.Token(t, tutor), map[string]any{"title": "  "}); status != http.StatusBadRequest {
		t.Fatalf("stream without a title: %d %s", status, body)
	}
	// No live_min_rank: only admins and tutors broadcast.
	status, body := srv.Do(t, http.MethodPost, url, testutil.Token(t, member), map[string]any{"title": "Mine"})
	if status != http.StatusForbidden || !strings.Contains(string(body), "admins and tutors only") {
		t.Fatalf("member without broadcast right: %d %s", status, body)
	}
	testutil.UpdateSettings(t, app, map[string]any{"live_min_rank": testutil.RankID(t, app, "Silver")})
	if status, body := srv.Do(t, http.MethodPost, url, testutil.Token(t, low), map[string]any{"title": "Mine"}); status != http.StatusForbidden ||
		!strings.Contains(string(body), "Silver rank or above") {
		t.Fatalf("below live_min_rank: %d %s", status, body)
	}
	if status, body := srv.Do(t, http.MethodPost, url, testutil.Token(t, member), map[string]any{"title": "Mine"}); status != http.StatusOK {
		t.Fatalf("member with rank: %d %s", status, body)
	}
	status, body = srv.Do(t, http.MethodPost, url, testutil.Token(t, tutor), map[string]any{
		"title": "Gold only", "min_rank": testutil.RankID(t, app, "Gold")})
	if status != http.StatusOK {
		t.Fatalf("tutor: %d %s", status, body)
	}
	id := testutil.Decode[map[string]any](t, body)["id"].(string)

	// Only members who may watch see it.
	if _, body := srv.Do(t, http.MethodGet, url+"/"+id, testutil.Token(t, gold), nil); !strings.Contains(string(body), id) {
		t.Fatalf("gold member cannot see the stream: %s", body)
	}
	if status, _ := srv.Do(t, http.MethodGet, url+"/"+id, testutil.Token(t, low), nil); status != http.StatusNotFound {
		t.Fatalf("bronze member sees a gold stream: %d", status)
	}

	// Server fields cannot be written; status only to ended; only the host edits.
	for _, step := range []struct {
		name  string
		token string
		body  map[string]any
		want  int
	}{
		{"viewer_count", testutil.Token(t, tutor), map[string]any{"viewer_count": 5}, 400},
		{"status live", testutil.Token(t, tutor), map[string]any{"status": "live"}, 400},
		{"host", testutil.Token(t, tutor), map[string]any{"host": gold.Id}, 400},
		{"not the host", testutil.Token(t, gold), map[string]any{"title": "Hijacked"}, 403},
		{"title by host", testutil.Token(t, tutor), map[string]any{"title": "Gold only (v2)"}, 200},
		{"ended by host", testutil.Token(t, tutor), map[string]any{"status": "ended"}, 200},
		{"live once ended", testutil.Token(t, tutor), map[string]any{"status": "live"}, 400},
	} {
		if status, body := srv.Do(t, http.MethodPatch, url+"/"+id, step.token, step.body); status != step.want {
			t.Errorf("%s: want %d, got %d %s", step.name, step.want, status, body)
		}
	}
	rec := record(t, app, "live_streams", id)
	if rec.GetString("title") != "Gold only (v2)" || rec.GetDateTime("ended_at").IsZero() || rec.GetInt("viewer_count") != 0 {
		t.Fatalf("after edits: %v", rec)
	}

	// Chat: viewers who may watch write while the stream is not over.
	_, body = srv.Do(t, http.MethodPost, url, testutil.Token(t, tutor), map[string]any{"title": "Chat", "min_rank": testutil.RankID(t, app, "Gold")})
	chatStream := testutil.Decode[map[string]any](t, body)["id"].(string)
	chat := "/api/collections/live_chat_messages/records"
	if status, body := srv.Do(t, http.MethodPost, chat, testutil.Token(t, gold), map[string]any{
		"stream": chatStream, "author": gold.Id, "body": "Hello from Osaka"}); status != http.StatusOK {
		t.Fatalf("chat: %d %s", status, body)
	}
	if status, _ := srv.Do(t, http.MethodPost, chat, testutil.Token(t, low), map[string]any{
		"stream": chatStream, "author": low.Id, "body": "me too"}); status == http.StatusOK {
		t.Fatal("a member below the stream's rank wrote in its chat")
	}
	if _, body := srv.Do(t, http.MethodGet, chat, testutil.Token(t, low), nil); !strings.Contains(string(body), `"totalItems":0`) {
		t.Fatalf("low rank reads the chat: %s", body)
	}
	if status, body := srv.Do(t, http.MethodPost, chat, testutil.Token(t, gold), map[string]any{
		"stream": id, "author": gold.Id, "body": "too late"}); status != http.StatusConflict || !strings.Contains(string(body), `"stream_ended"`) {
		t.Fatalf("chat written to an ended stream: want 409 stream_ended, got %d %s", status, body)
	}
	// the server sets the author: a line without one is the caller's, a line
	// in someone else's name is refused with its reason
	status, body = srv.Do(t, http.MethodPost, chat, testutil.Token(t, gold), map[string]any{"stream": chatStream, "body": "no author given"})
	if status != http.StatusOK || !strings.Contains(string(body), `"author":"`+gold.Id+`"`) {
		t.Fatalf("chat without author: %d %s", status, body)
	}
	if status, body := srv.Do(t, http.MethodPost, chat, testutil.Token(t, gold), map[string]any{
		"stream": chatStream, "author": tutor.Id, "body": "I am the host"}); status != http.StatusForbidden || !strings.Contains(string(body), `"not_yours"`) {
		t.Fatalf("chat as someone else: want 403 not_yours, got %d %s", status, body)
	}
}
