package live_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/livekit/protocol/auth"
	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
	"github.com/pocketbase/pocketbase/core"

	"salonbase/rtc/rtctest"
	"salonbase/testutil"
)

// liveKit is a real livekit-server (dev mode, loopback), built from the
// version pinned in tools/livekit/go.mod.
type liveKit struct {
	URL    string // ws://127.0.0.1:port
	Key    string
	Secret string
}

func (lk *liveKit) rooms() *lksdk.RoomServiceClient {
	return lksdk.NewRoomServiceClient(lk.URL, lk.Key, lk.Secret)
}

func freePort(t *testing.T, network string) int {
	t.Helper()
	if network == "udp" {
		c, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port
	}
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startLiveKit runs livekit-server for the test, sending its webhooks to
// webhookURL.
func startLiveKit(t *testing.T, webhookURL string) *liveKit {
	t.Helper()
	// SALON_LIVEKIT_SERVER names another livekit-server binary (a release
	// download, say) to run these tests with.
	bin := os.Getenv("SALON_LIVEKIT_SERVER")
	if bin == "" {
		var err error
		if bin, err = testutil.ToolBinary("../../tools/livekit", "github.com/livekit/livekit-server/cmd/server"); err != nil {
			t.Fatalf("livekit-server: %v", err)
		}
	}
	lk := &liveKit{Key: "salontestkey", Secret: "salon-test-secret-of-at-least-32-characters"}
	port := freePort(t, "tcp")
	conf := fmt.Sprintf(`port: %d
bind_addresses: ["127.0.0.1"]
rtc:
  tcp_port: %d
  udp_port: %d
  use_external_ip: false
  node_ip: 127.0.0.1
keys:
  %s: %s
webhook:
  api_key: %s
  urls: ["%s"]
room:
  empty_timeout: 30
  departure_timeout: 5
logging:
  level: warn
`, port, freePort(t, "tcp"), freePort(t, "udp"), lk.Key, lk.Secret, lk.Key, webhookURL)
	logPath := filepath.Join(t.TempDir(), "livekit.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--dev", "--config-body", conf)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		logf.Close()
		if t.Failed() {
			if b, err := os.ReadFile(logPath); err == nil {
				t.Logf("livekit-server log:\n%s", b)
			}
		}
	})
	lk.URL = "ws://127.0.0.1:" + strconv.Itoa(port)
	rtctest.Eventually(t, 30*time.Second, "livekit-server answers", func() bool {
		res, err := http.Get("http://127.0.0.1:" + strconv.Itoa(port) + "/")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	})
	return lk
}

// joined is a member connected to a LiveKit room with the SDK.
type joined struct {
	room    *lksdk.Room
	packets atomic.Int64 // RTP packets received from others
}

func join(t *testing.T, url, token string) (*joined, error) {
	t.Helper()
	j := &joined{}
	cb := lksdk.NewRoomCallback()
	cb.OnTrackSubscribed = func(track *webrtc.TrackRemote, _ *lksdk.RemoteTrackPublication, _ *lksdk.RemoteParticipant) {
		go func() {
			for {
				if _, _, err := track.ReadRTP(); err != nil {
					return
				}
				j.packets.Add(1)
			}
		}()
	}
	room, err := lksdk.ConnectToRoomWithToken(url, token, cb)
	if err != nil {
		return nil, err
	}
	j.room = room
	t.Cleanup(room.Disconnect)
	return j, nil
}

// publishAudio sends Opus frames (silence) on a new track until the test
// ends.
func publishAudio(t *testing.T, j *joined) {
	t.Helper()
	track, err := lksdk.NewLocalSampleTrack(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := j.room.LocalParticipant.PublishTrack(track, &lksdk.TrackPublicationOptions{Name: "mic"}); err != nil {
		t.Fatalf("publish: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				track.WriteSample(media.Sample{Data: []byte{0xf8, 0xff, 0xfe}, Duration: 20 * time.Millisecond}, nil)
			}
		}
	}()
}

type lkToken struct {
	URL        string `json:"url"`
	Token      string `json:"token"`
	Room       string `json:"room"`
	Identity   string `json:"identity"`
	CanPublish bool   `json:"can_publish"`
}

func mintToken(t *testing.T, srv *testutil.Server, path, token string, want int) lkToken {
	t.Helper()
	status, body := srv.Do(t, http.MethodPost, path, token, nil)
	if status != want {
		t.Fatalf("POST %s: %d %s (want %d)", path, status, body, want)
	}
	if status != http.StatusOK {
		if strings.Contains(string(body), `"token"`) {
			t.Fatalf("a refused caller got a token: %s", body)
		}
		return lkToken{}
	}
	return testutil.Decode[lkToken](t, body)
}

func inRoom(t *testing.T, lk *liveKit, room, identity string) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := lk.rooms().ListParticipants(ctx, &livekit.ListParticipantsRequest{Room: room})
	if err != nil {
		return false // the room is gone
	}
	for _, p := range res.GetParticipants() {
		if p.GetIdentity() == identity {
			return true
		}
	}
	return false
}

// useLiveKit serves app and points it at a fresh livekit-server.
func useLiveKit(t *testing.T, app core.App, srv *testutil.Server) *liveKit {
	lk := startLiveKit(t, srv.URL+"/api/salon/livekit/webhook")
	testutil.UpdateSettings(t, app, map[string]any{
		"media_backend": "livekit", "livekit_url": lk.URL, "livekit_api_key": lk.Key, "livekit_api_secret": lk.Secret,
	})
	return lk
}

// With LiveKit as the media backend, our routes hand out tokens by the same
// rules as the embedded server; LiveKit enforces them, its webhooks move the
// stream's record, and lowering a viewer's rank or ending the stream
// removes them from LiveKit's room.
func TestLiveKitLiveStream(t *testing.T) {
	app := testutil.NewApp(t)
	host := testutil.CreateUser(t, app, testutil.User{Name: "Hana", Role: "tutor"})
	ann := testutil.CreateUser(t, app, testutil.User{Rank: "Gold"})
	low := testutil.CreateUser(t, app, testutil.User{Rank: "Bronze"})
	srv := serveRTC(t, app)
	lk := useLiveKit(t, app, srv)
	hostTok, annTok, lowTok := testutil.Token(t, host), testutil.Token(t, ann), testutil.Token(t, low)

	status, body := srv.Do(t, http.MethodPost, "/api/collections/live_streams/records", hostTok,
		map[string]any{"title": "Friday Q&A", "min_rank": testutil.RankID(t, app, "Gold")})
	if status != http.StatusOK {
		t.Fatalf("create stream: %d %s", status, body)
	}
	id := testutil.Decode[map[string]any](t, body)["id"].(string)
	path := "/api/salon/live/" + id + "/livekit"

	// The clients learn the backend.
	_, body = srv.Do(t, http.MethodGet, "/api/salon/media", annTok, nil)
	if info := testutil.Decode[map[string]any](t, body); info["backend"] != "livekit" || info["url"] != lk.URL {
		t.Fatalf("media info: %s", body)
	}
	// The embedded server's viewing route is closed while LiveKit is in use
	// (WHIP is relayed into LiveKit: livekit_whip_test.go).
	whep := rtctest.View(t, srv.URL+"/api/rtc/live/"+id+"/whep", annTok)
	whep.Close()
	if whep.Result.Status != http.StatusConflict {
		t.Fatalf("WHEP while LiveKit is the backend: %d %s", whep.Result.Status, whep.Result.Body)
	}

	// Refused: no token (401), a rank below the stream's (403); neither gets a token.
	mintToken(t, srv, path, "", http.StatusUnauthorized)
	mintToken(t, srv, path, lowTok, http.StatusForbidden)

	hostLK := mintToken(t, srv, path, hostTok, http.StatusOK)
	if !hostLK.CanPublish || hostLK.Room != "live-"+id || hostLK.Identity != host.Id || hostLK.URL != lk.URL {
		t.Fatalf("host token: %+v", hostLK)
	}
	hostRoom, err := join(t, hostLK.URL, hostLK.Token)
	if err != nil {
		t.Fatalf("host joins: %v", err)
	}
	publishAudio(t, hostRoom)
	// LiveKit's track_published webhook takes the stream live.
	waitStatus(t, app, "live_streams", id, "live")

	annLK := mintToken(t, srv, path, annTok, http.StatusOK)
	if annLK.CanPublish {
		t.Fatal("a viewer got a token that publishes")
	}
	annRoom, err := join(t, annLK.URL, annLK.Token)
	if err != nil {
		t.Fatalf("viewer joins: %v", err)
	}
	rtctest.Eventually(t, 15*time.Second, "the viewer receives the host's audio", func() bool {
		return annRoom.packets.Load() > 10
	})
	if inRoom(t, lk, "live-"+id, "salon-recorder") {
		t.Fatal("the recorder joined a stream not recorded")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p, err := lk.rooms().GetParticipant(ctx, &livekit.RoomParticipantIdentity{Room: "live-" + id, Identity: ann.Id})
	if err != nil || p.GetPermission().GetCanPublish() || !p.GetPermission().GetCanSubscribe() {
		t.Fatalf("LiveKit's view of the viewer: %v %v", p.GetPermission(), err)
	}
	// The webhook's joins keep viewer_count (the host is not counted).
	rtctest.Eventually(t, 10*time.Second, "viewer_count 1", func() bool {
		return record(t, app, "live_streams", id).GetInt("viewer_count") == 1
	})

	// Tokens we did not sign, or that expired, are refused by LiveKit.
	forged, _ := auth.NewAccessToken(lk.Key, "not-the-salon-secret-but-32-chars-long!").
		SetVideoGrant(&auth.VideoGrant{RoomJoin: true, Room: "live-" + id}).SetIdentity(low.Id).SetValidFor(time.Minute).ToJWT()
	if _, err := join(t, lk.URL, forged); err == nil {
		t.Fatal("livekit-server accepted a forged token")
	}
	// (the SDK turns a validity of 0 or less into 6 hours: sign by hand, and
	// check that the same token still valid is taken)
	if j, err := join(t, lk.URL, signedToken(t, lk, low.Id, "live-"+id, time.Now().Add(time.Minute))); err != nil {
		t.Fatalf("a hand-signed token still valid: %v", err)
	} else {
		j.room.Disconnect()
	}
	if _, err := join(t, lk.URL, signedToken(t, lk, low.Id, "live-"+id, time.Now().Add(-10*time.Minute))); err == nil {
		t.Fatal("livekit-server accepted an expired token")
	}

	// ann's rank is lowered below the stream's: she is removed from the room.
	ann.Set("rank", testutil.RankID(t, app, "Bronze"))
	if err := app.Save(ann); err != nil {
		t.Fatal(err)
	}
	rtctest.Eventually(t, 15*time.Second, "the demoted viewer is removed", func() bool {
		return !inRoom(t, lk, "live-"+id, ann.Id)
	})
	mintToken(t, srv, path, annTok, http.StatusForbidden)
	if !inRoom(t, lk, "live-"+id, host.Id) {
		t.Fatal("the host was removed too")
	}

	// The host ends the stream: LiveKit's room closes.
	if st, b := srv.Do(t, http.MethodPatch, "/api/collections/live_streams/records/"+id, hostTok, map[string]any{"status": "ended"}); st != http.StatusOK {
		t.Fatalf("end: %d %s", st, b)
	}
	rtctest.Eventually(t, 15*time.Second, "the host is disconnected", func() bool {
		return !inRoom(t, lk, "live-"+id, host.Id)
	})
	mintToken(t, srv, path, hostTok, http.StatusConflict)
}

// Calls on LiveKit: only the two parties get a token (the callee once they
// accepted); hanging up closes the room for both.
func TestLiveKitCall(t *testing.T) {
	app := testutil.NewApp(t)
	caller := testutil.CreateUser(t, app, testutil.User{Rank: "Gold"})
	callee := testutil.CreateUser(t, app, testutil.User{Rank: "Gold"})
	third := testutil.CreateUser(t, app, testutil.User{Rank: "Gold"})
	srv := serveRTC(t, app)
	lk := useLiveKit(t, app, srv)
	callerTok, calleeTok := testutil.Token(t, caller), testutil.Token(t, callee)

	status, body := srv.Do(t, http.MethodPost, "/api/collections/calls/records", callerTok,
		map[string]any{"caller": caller.Id, "callee": callee.Id})
	if status != http.StatusOK {
		t.Fatalf("call: %d %s", status, body)
	}
	id := testutil.Decode[map[string]any](t, body)["id"].(string)
	path := "/api/salon/calls/" + id + "/livekit"

	mintToken(t, srv, path, testutil.Token(t, third), http.StatusForbidden)
	mintToken(t, srv, path, calleeTok, http.StatusConflict) // not accepted yet
	a := mintToken(t, srv, path, callerTok, http.StatusOK)
	if !a.CanPublish || a.Room != "call-"+id {
		t.Fatalf("caller token: %+v", a)
	}
	if st, b := srv.Do(t, http.MethodPatch, "/api/collections/calls/records/"+id, calleeTok, map[string]any{"status": "active"}); st != http.StatusOK {
		t.Fatalf("accept: %d %s", st, b)
	}
	b := mintToken(t, srv, path, calleeTok, http.StatusOK)

	ra, err := join(t, a.URL, a.Token)
	if err != nil {
		t.Fatal(err)
	}
	rb, err := join(t, b.URL, b.Token)
	if err != nil {
		t.Fatal(err)
	}
	publishAudio(t, ra)
	publishAudio(t, rb)
	rtctest.Eventually(t, 15*time.Second, "both parties hear each other", func() bool {
		return ra.packets.Load() > 10 && rb.packets.Load() > 10
	})

	if st, b := srv.Do(t, http.MethodPatch, "/api/collections/calls/records/"+id, calleeTok, map[string]any{"status": "ended"}); st != http.StatusOK {
		t.Fatalf("hang up: %d %s", st, b)
	}
	rtctest.Eventually(t, 15*time.Second, "both parties are disconnected", func() bool {
		return !inRoom(t, lk, "call-"+id, caller.Id) && !inRoom(t, lk, "call-"+id, callee.Id)
	})
	mintToken(t, srv, path, callerTok, http.StatusConflict)
}

// The webhook route believes only requests signed with the salon's LiveKit
// key and secret.
func TestLiveKitWebhookSignature(t *testing.T) {
	app := testutil.NewApp(t)
	srv := serveRTC(t, app)
	testutil.UpdateSettings(t, app, map[string]any{
		"media_backend": "livekit", "livekit_url": "ws://127.0.0.1:1", "livekit_api_key": "salontestkey",
		"livekit_api_secret": "salon-test-secret-of-at-least-32-characters",
	})
	host := testutil.CreateUser(t, app, testutil.User{Role: "tutor"})
	stream := testutil.NewRecord(testutil.MustCollection(t, app, "live_streams"), map[string]any{"title": "x", "host": host.Id, "status": "scheduled"})
	if err := app.Save(stream); err != nil {
		t.Fatal(err)
	}
	payload := []byte(`{"event":"track_published","room":{"name":"live-` + stream.Id + `"},"participant":{"identity":"` + host.Id + `"}}`)
	post := func(secret string) (int, []byte) {
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/api/salon/livekit/webhook", bytes.NewReader(payload))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/webhook+json")
		if secret != "" {
			sum := sha256Base64(payload)
			tok, err := auth.NewAccessToken("salontestkey", secret).SetValidFor(time.Minute).SetSha256(sum).ToJWT()
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", tok)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var buf bytes.Buffer
		buf.ReadFrom(res.Body)
		return res.StatusCode, buf.Bytes()
	}
	for _, secret := range []string{"", "a-different-secret-of-at-least-32-characters"} {
		if st, b := post(secret); st != http.StatusUnauthorized {
			t.Fatalf("webhook signed with %q: %d %s", secret, st, b)
		}
	}
	if got := record(t, app, "live_streams", stream.Id).GetString("status"); got != "scheduled" {
		t.Fatalf("an unsigned webhook changed the stream to %s", got)
	}
	// The same event, signed: the stream goes live.
	if st, b := post("salon-test-secret-of-at-least-32-characters"); st != http.StatusNoContent {
		t.Fatalf("signed webhook: %d %s", st, b)
	}
	if got := record(t, app, "live_streams", stream.Id).GetString("status"); got != "live" {
		t.Fatalf("a signed webhook left the stream %s", got)
	}
}

// On the builtin backend (the default) the LiveKit routes say so.
func TestLiveKitRoutesOffOnBuiltin(t *testing.T) {
	app := testutil.NewApp(t)
	host := testutil.CreateUser(t, app, testutil.User{Role: "tutor"})
	srv := serveRTC(t, app)
	_, body := srv.Do(t, http.MethodGet, "/api/salon/media", "", nil)
	if info := testutil.Decode[map[string]any](t, body); info["backend"] != "builtin" {
		t.Fatalf("media info: %s", body)
	}
	stream := testutil.NewRecord(testutil.MustCollection(t, app, "live_streams"), map[string]any{"title": "x", "host": host.Id, "status": "scheduled"})
	if err := app.Save(stream); err != nil {
		t.Fatal(err)
	}
	mintToken(t, srv, "/api/salon/live/"+stream.Id+"/livekit", testutil.Token(t, host), http.StatusConflict)
	if st, _ := srv.Do(t, http.MethodPost, "/api/salon/livekit/webhook", "", "{}"); st != http.StatusConflict {
		t.Fatalf("webhook on builtin: %d", st)
	}
}

func sha256Base64(b []byte) string {
	sum := sha256.Sum256(b)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// signedToken is a LiveKit access token joining room as identity until
// expires, signed with the server's key.
func signedToken(t *testing.T, lk *liveKit, identity, room string, expires time.Time) string {
	t.Helper()
	token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"iss":   lk.Key,
		"sub":   identity,
		"nbf":   expires.Add(-time.Hour).Unix(),
		"exp":   expires.Unix(),
		"video": map[string]any{"roomJoin": true, "room": room},
	}).SignedString([]byte(lk.Secret))
	if err != nil {
		t.Fatal(err)
	}
	return token
}
