package rtc_test

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"salonbase/rtc"
	"salonbase/rtc/rtctest"
)

// testAuthz is our own Authorizer for tests of the rtc package alone:
// tokens are member ids; a stream's viewers are listed per stream.
type testAuthz struct {
	mu       sync.Mutex
	hosts    map[string]string          // stream → host member
	keys     map[string]string          // stream → stream key
	viewers  map[string]map[string]bool // stream → allowed members
	calls    map[string][2]string       // call → parties
	revoked  map[string]bool            // members cut off
	rechecks int
}

func newAuthz() *testAuthz {
	return &testAuthz{hosts: map[string]string{}, keys: map[string]string{},
		viewers: map[string]map[string]bool{}, calls: map[string][2]string{}, revoked: map[string]bool{}}
}

func bearer(r *http.Request) string {
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
}

func (a *testAuthz) AuthorizePublish(r *http.Request, id string) (rtc.Grant, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	tok := bearer(r)
	switch {
	case tok == "":
		return rtc.Grant{}, rtc.Unauthorized("sign in first")
	case a.keys[id] != "" && tok == a.keys[id]:
		return rtc.Grant{}, nil
	case a.hosts[id] == "":
		return rtc.Grant{}, rtc.NotFound("no such stream")
	case a.hosts[id] != tok:
		return rtc.Grant{}, rtc.Forbidden("only the host can publish")
	}
	return rtc.Grant{User: tok}, nil
}

func (a *testAuthz) AuthorizeView(r *http.Request, id string) (rtc.Grant, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	tok := bearer(r)
	if tok == "" {
		return rtc.Grant{}, rtc.Unauthorized("sign in first")
	}
	if !a.viewers[id][tok] {
		return rtc.Grant{}, rtc.Forbidden("this stream is for Gold members and above")
	}
	return rtc.Grant{User: tok}, nil
}

func (a *testAuthz) AuthorizeCall(r *http.Request, id string) (rtc.Grant, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	tok, p := bearer(r), a.calls[id]
	switch tok {
	case p[0]:
		return rtc.Grant{User: tok, Peer: p[1]}, nil
	case p[1]:
		return rtc.Grant{User: tok, Peer: p[0]}, nil
	}
	return rtc.Grant{}, rtc.Forbidden("you are not a party of this call")
}

func (a *testAuthz) AuthorizeICE(r *http.Request) (rtc.Grant, error) {
	if bearer(r) == "" {
		return rtc.Grant{}, rtc.Unauthorized("sign in first")
	}
	return rtc.Grant{User: bearer(r)}, nil
}

func (a *testAuthz) StillAllowed(g rtc.Grant) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.rechecks++
	return !a.revoked[g.User]
}

// eventLog records the server's events.
type eventLog struct {
	mu     sync.Mutex
	events []string
}

func (l *eventLog) add(s string) {
	l.mu.Lock()
	l.events = append(l.events, s)
	l.mu.Unlock()
}

func (l *eventLog) has(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.events {
		if e == s {
			return true
		}
	}
	return false
}

func (l *eventLog) events_() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.events...)
}

func (l *eventLog) hooks() rtc.Events {
	return rtc.Events{
		StreamLive:  func(id string, g rtc.Grant) { l.add("live " + id + " by " + g.User) },
		StreamEnded: func(id string) { l.add("ended " + id) },
		ViewerCount: func(id string, n int) { l.add("viewers " + id + " " + itoa(n)) },
		CallJoined:  func(id string, g rtc.Grant) { l.add("joined " + id + " " + g.User) },
		CallLeft:    func(id string, g rtc.Grant) { l.add("left " + id + " " + g.User) },
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

type env struct {
	srv   *rtc.Server
	url   string
	authz *testAuthz
	log   *eventLog
	pages sync.Map    // path → HTML served next to the media API (browser tests)
	logs  chan string // what the pages report (the latest 16)
}

func newEnv(t *testing.T, cfg rtc.Config) *env {
	t.Helper()
	cfg.IncludeLoopback = true
	if cfg.RecheckInterval == 0 {
		cfg.RecheckInterval = 200 * time.Millisecond
	}
	if cfg.DisconnectTimeout == 0 {
		cfg.DisconnectTimeout = time.Second
	}
	a, l := newAuthz(), &eventLog{}
	srv, err := rtc.New(cfg, a, l.hooks(), nil)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{srv: srv, authz: a, log: l, logs: make(chan string, 16)}
	mux := http.NewServeMux()
	mux.Handle("/api/rtc/", srv.Handler())
	mux.HandleFunc("GET /page/{name}", func(w http.ResponseWriter, r *http.Request) {
		html, ok := e.pages.Load(r.PathValue("name"))
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, html.(string))
	})
	// Browser pages report what they see (tests log it).
	mux.HandleFunc("POST /page/log", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<16))
		t.Logf("page: %s", b)
		select {
		case e.logs <- string(b):
		default:
		}
	})
	hs := httptest.NewServer(mux)
	t.Cleanup(func() {
		hs.Close()
		srv.Close()
	})
	e.url = hs.URL
	return e
}

func (e *env) stream(id, host string, viewers ...string) {
	e.authz.mu.Lock()
	defer e.authz.mu.Unlock()
	e.authz.hosts[id] = host
	e.authz.viewers[id] = map[string]bool{}
	for _, v := range viewers {
		e.authz.viewers[id][v] = true
	}
}

func (e *env) goLive(t *testing.T, id, host string) *rtctest.Publisher {
	t.Helper()
	pub := rtctest.Publish(t, e.url+"/api/rtc/live/"+id+"/whip", host)
	if pub.Result.Status != http.StatusCreated {
		t.Fatalf("publish: %d %s", pub.Result.Status, pub.Result.Body)
	}
	rtctest.Eventually(t, 10*time.Second, "stream live", func() bool { return e.log.has("live " + id + " by " + host) })
	return pub
}

// waitPicture waits until v has decoded the clip's keyframe.
func waitPicture(t *testing.T, v *rtctest.Viewer, who string) {
	t.Helper()
	rtctest.Eventually(t, 10*time.Second, who+" decodes a keyframe and hears audio", func() bool {
		s := v.Stats()
		return len(s.Keyframes) > 0 && s.AudioIsOpus
	})
	s := v.Stats()
	if s.DecodeErr != nil {
		t.Fatalf("%s: decode: %v", who, s.DecodeErr)
	}
	if err := rtctest.CheckPicture(s.Keyframes[0]); err != nil {
		t.Fatalf("%s: %v", who, err)
	}
}

func TestLiveStreamReachesTwoViewers(t *testing.T) {
	e := newEnv(t, rtc.Config{})
	e.stream("s1", "host", "ann", "bob")
	pub := e.goLive(t, "s1", "host")
	if !strings.HasPrefix(pub.Result.Location, "/api/rtc/live/s1/whip/") {
		t.Fatalf("Location = %q", pub.Result.Location)
	}
	if ct := pub.Result.Header.Get("Content-Type"); ct != "application/sdp" {
		t.Fatalf("answer Content-Type = %q", ct)
	}

	ann := rtctest.View(t, e.url+"/api/rtc/live/s1/whep", "ann")
	bob := rtctest.View(t, e.url+"/api/rtc/live/s1/whep", "bob")
	for _, v := range []*rtctest.Viewer{ann, bob} {
		if v.Result.Status != http.StatusCreated || !strings.HasPrefix(v.Result.Location, "/api/rtc/live/s1/whep/") {
			t.Fatalf("view: %d %q %s", v.Result.Status, v.Result.Location, v.Result.Body)
		}
	}
	waitPicture(t, ann, "ann")
	waitPicture(t, bob, "bob")
	if pub.PLIs() == 0 {
		t.Fatal("the publisher was never asked for a keyframe when viewers joined")
	}
	if n := e.srv.Viewers("s1"); n != 2 {
		t.Fatalf("viewers = %d, want 2", n)
	}
	rtctest.Eventually(t, 5*time.Second, "viewer count event 2", func() bool { return e.log.has("viewers s1 2") })
	if st := e.srv.Stats(); st.Forwarded == 0 || st.Sessions != 3 || st.Streams != 1 {
		t.Fatalf("stats = %+v", st)
	}
}

func TestViewerRefusals(t *testing.T) {
	e := newEnv(t, rtc.Config{})
	e.stream("s1", "host", "ann")

	// Before the host is live: 409.
	early := rtctest.View(t, e.url+"/api/rtc/live/s1/whep", "ann")
	if early.Result.Status != http.StatusConflict || !strings.Contains(early.Result.Body, "not live") {
		t.Fatalf("early viewer: %d %s", early.Result.Status, early.Result.Body)
	}
	pub := e.goLive(t, "s1", "host")
	_ = pub

	// A member the application refuses: 403 with its reason, no session.
	before := e.srv.Stats().Sessions
	eve := rtctest.View(t, e.url+"/api/rtc/live/s1/whep", "eve")
	if eve.Result.Status != http.StatusForbidden || !strings.Contains(eve.Result.Body, "Gold members") {
		t.Fatalf("forbidden viewer: %d %s", eve.Result.Status, eve.Result.Body)
	}
	anon := rtctest.View(t, e.url+"/api/rtc/live/s1/whep", "")
	if anon.Result.Status != http.StatusUnauthorized {
		t.Fatalf("anonymous viewer: %d %s", anon.Result.Status, anon.Result.Body)
	}
	if got := e.srv.Stats().Sessions; got != before {
		t.Fatalf("refused viewers left sessions: %d → %d", before, got)
	}
	// Someone else's stream: 403.
	other := rtctest.Publish(t, e.url+"/api/rtc/live/s1/whip", "ann")
	if other.Result.Status != http.StatusForbidden {
		t.Fatalf("non-host publisher: %d %s", other.Result.Status, other.Result.Body)
	}
}

func TestStreamKeyPublishAndDeleteEndsStream(t *testing.T) {
	e := newEnv(t, rtc.Config{})
	e.stream("s2", "host", "ann")
	e.authz.mu.Lock()
	e.authz.keys["s2"] = "obs-secret-key"
	e.authz.mu.Unlock()

	pub := rtctest.Publish(t, e.url+"/api/rtc/live/s2/whip", "obs-secret-key")
	if pub.Result.Status != http.StatusCreated {
		t.Fatalf("publish with key: %d %s", pub.Result.Status, pub.Result.Body)
	}
	rtctest.Eventually(t, 10*time.Second, "live", func() bool { return e.log.has("live s2 by ") })
	ann := rtctest.View(t, e.url+"/api/rtc/live/s2/whep", "ann")
	waitPicture(t, ann, "ann")

	// A wrong session id is not found; the right one ends the stream.
	if res := rtctest.Do(t, http.MethodDelete, e.url+"/api/rtc/live/s2/whip/0123", "", "", ""); res.Status != http.StatusNotFound {
		t.Fatalf("delete unknown: %d", res.Status)
	}
	if res := rtctest.Do(t, http.MethodDelete, e.url+ann.Result.Location, "", "", ""); res.Status != http.StatusOK {
		t.Fatalf("viewer leaves: %d %s", res.Status, res.Body)
	}
	rtctest.Eventually(t, 5*time.Second, "viewer count back to 0", func() bool { return e.log.has("viewers s2 0") })
	bob := rtctest.View(t, e.url+"/api/rtc/live/s2/whep", "ann")
	waitPicture(t, bob, "ann again")

	if res := rtctest.Do(t, http.MethodDelete, e.url+pub.Result.Location, "", "", ""); res.Status != http.StatusOK {
		t.Fatalf("delete: %d %s", res.Status, res.Body)
	}
	rtctest.Eventually(t, 5*time.Second, "stream ended event", func() bool { return e.log.has("ended s2") })
	rtctest.Eventually(t, 5*time.Second, "viewer disconnected by the server", func() bool {
		st := bob.Stats().State
		return st == webrtc.PeerConnectionStateClosed || st == webrtc.PeerConnectionStateFailed ||
			st == webrtc.PeerConnectionStateDisconnected
	})
	if st := e.srv.Stats(); st.Sessions != 0 || st.Streams != 0 {
		t.Fatalf("after DELETE: %+v", st)
	}
	// Deleting twice: 404.
	if res := rtctest.Do(t, http.MethodDelete, e.url+pub.Result.Location, "", "", ""); res.Status != http.StatusNotFound {
		t.Fatalf("delete again: %d", res.Status)
	}
}

// Closed tabs are cleaned up: sessions, counts and goroutines return to
// where they were.
func TestDisconnectsAreCleanedUp(t *testing.T) {
	e := newEnv(t, rtc.Config{RejoinGrace: 500 * time.Millisecond})
	e.stream("s3", "host", "ann", "bob")
	runtime.GC()
	baseline := runtime.NumGoroutine()

	pub := e.goLive(t, "s3", "host")
	ann := rtctest.View(t, e.url+"/api/rtc/live/s3/whep", "ann")
	bob := rtctest.View(t, e.url+"/api/rtc/live/s3/whep", "bob")
	waitPicture(t, ann, "ann")
	waitPicture(t, bob, "bob")

	ann.Close()
	rtctest.Eventually(t, 5*time.Second, "ann's session closed", func() bool { return e.srv.Viewers("s3") == 1 })
	rtctest.Eventually(t, 5*time.Second, "viewer count event 1", func() bool { return e.log.has("viewers s3 1") })
	if s := bob.Stats(); s.State != webrtc.PeerConnectionStateConnected {
		t.Fatalf("bob state = %s", s.State)
	}
	pub.Close()
	rtctest.Eventually(t, 5*time.Second, "stream ended", func() bool { return e.log.has("ended s3") })
	rtctest.Eventually(t, 5*time.Second, "no sessions", func() bool { return e.srv.Stats().Sessions == 0 })
	bob.Close()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > baseline {
		http.DefaultClient.CloseIdleConnections() // keep-alive HTTP connections are not ours
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("goroutines: %d, baseline %d\n%s", runtime.NumGoroutine(), baseline, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestLimits(t *testing.T) {
	e := newEnv(t, rtc.Config{MaxViewers: 1, MaxStreams: 1, MaxSDPBytes: 8 << 10, MaxSessionsPerUser: 2, MaxTracks: 2})
	e.stream("s4", "host", "ann", "bob")
	e.stream("s5", "host2")
	e.goLive(t, "s4", "host")

	url := e.url + "/api/rtc/live/s4/whep"
	if r := rtctest.Post(t, url, "ann", "text/plain", "v=0"); r.Status != http.StatusUnsupportedMediaType {
		t.Fatalf("wrong content type: %d", r.Status)
	}
	if r := rtctest.Post(t, url, "ann", "application/sdp", strings.Repeat("a", 9<<10)); r.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("big offer: %d %s", r.Status, r.Body)
	}
	if r := rtctest.Post(t, url, "ann", "application/sdp", "this is not sdp"); r.Status != http.StatusBadRequest {
		t.Fatalf("bad offer: %d %s", r.Status, r.Body)
	}
	// Three media sections when two are allowed.
	v3 := rtctest.NewViewer(t)
	if _, err := v3.PC.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio,
		webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
		t.Fatal(err)
	}
	if r := rtctest.PostOffer(t, v3.PC, url, "ann"); r.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("too many tracks: %d %s", r.Status, r.Body)
	}

	ann := rtctest.View(t, url, "ann")
	if ann.Result.Status != http.StatusCreated {
		t.Fatalf("first viewer: %d %s", ann.Result.Status, ann.Result.Body)
	}
	bob := rtctest.View(t, url, "bob")
	if bob.Result.Status != http.StatusServiceUnavailable || bob.Result.Header.Get("Retry-After") == "" {
		t.Fatalf("viewer over the limit: %d %s", bob.Result.Status, bob.Result.Body)
	}
	pub2 := rtctest.Publish(t, e.url+"/api/rtc/live/s5/whip", "host2")
	if pub2.Result.Status != http.StatusServiceUnavailable {
		t.Fatalf("stream over the limit: %d %s", pub2.Result.Status, pub2.Result.Body)
	}
	// Per member: "ann" holds one session; a call publish and a second
	// would exceed 2.
	e.authz.mu.Lock()
	e.authz.calls["c1"] = [2]string{"ann", "bob"}
	e.authz.mu.Unlock()
	p1 := rtctest.Publish(t, e.url+"/api/rtc/calls/c1/publish", "ann")
	if p1.Result.Status != http.StatusCreated {
		t.Fatalf("call publish: %d %s", p1.Result.Status, p1.Result.Body)
	}
	s1 := rtctest.View(t, e.url+"/api/rtc/calls/c1/subscribe", "ann")
	if s1.Result.Status != http.StatusTooManyRequests {
		t.Fatalf("per-member limit: %d %s", s1.Result.Status, s1.Result.Body)
	}
}

func TestAccessRevokedWhileWatching(t *testing.T) {
	e := newEnv(t, rtc.Config{})
	e.stream("s6", "host", "ann", "bob")
	e.goLive(t, "s6", "host")
	ann := rtctest.View(t, e.url+"/api/rtc/live/s6/whep", "ann")
	bob := rtctest.View(t, e.url+"/api/rtc/live/s6/whep", "bob")
	waitPicture(t, ann, "ann")
	waitPicture(t, bob, "bob")

	e.authz.mu.Lock()
	e.authz.revoked["ann"] = true
	e.authz.mu.Unlock()
	rtctest.Eventually(t, 5*time.Second, "ann cut off", func() bool { return e.srv.Viewers("s6") == 1 })
	if bob.Stats().State != webrtc.PeerConnectionStateConnected {
		t.Fatal("bob was cut off too")
	}
}

func TestOptionsAndPatch(t *testing.T) {
	e := newEnv(t, rtc.Config{})
	r := rtctest.Do(t, http.MethodOptions, e.url+"/api/rtc/live/x/whip", "", "", "")
	if r.Status != http.StatusNoContent || r.Header.Get("Accept-Post") != "application/sdp" {
		t.Fatalf("OPTIONS: %d %v", r.Status, r.Header)
	}
	r = rtctest.Do(t, http.MethodOptions, e.url+"/api/rtc/live/x/whip/abc", "", "", "")
	if r.Status != http.StatusNoContent || r.Header.Get("Accept-Patch") != "application/trickle-ice-sdpfrag" {
		t.Fatalf("OPTIONS on a session: %d %v", r.Status, r.Header)
	}
	r = rtctest.Do(t, http.MethodGet, e.url+"/api/rtc/live/x/whip", "", "", "")
	if r.Status != http.StatusMethodNotAllowed {
		t.Fatalf("GET on the endpoint: %d", r.Status)
	}
}

func TestICEServersAndTURNCredentials(t *testing.T) {
	e := newEnv(t, rtc.Config{
		STUNURLs: []string{"stun:stun.example.com:3478"},
		TURNURLs: []string{"turn:turn.example.com:3478?transport=udp"}, TURNSecret: "s3cret", TURNTTL: time.Hour,
	})
	if r := rtctest.Do(t, http.MethodGet, e.url+"/api/rtc/ice-servers", "", "", ""); r.Status != http.StatusUnauthorized {
		t.Fatalf("anonymous: %d", r.Status)
	}
	r := rtctest.Do(t, http.MethodGet, e.url+"/api/rtc/ice-servers", "ann", "", "")
	var out struct {
		ICEServers []rtc.ICEServer `json:"iceServers"`
	}
	if err := json.Unmarshal([]byte(r.Body), &out); err != nil || len(out.ICEServers) != 2 {
		t.Fatalf("ice-servers: %d %s", r.Status, r.Body)
	}
	turn := out.ICEServers[1]
	exp, user, ok := strings.Cut(turn.Username, ":")
	if !ok || user != "ann" {
		t.Fatalf("TURN username %q", turn.Username)
	}
	secs, err := strconv.ParseInt(exp, 10, 64)
	if err != nil {
		t.Fatalf("TURN username %q: %v", turn.Username, err)
	}
	if d := time.Until(time.Unix(secs, 0)); d < 50*time.Minute || d > 61*time.Minute {
		t.Fatalf("TURN credential expires in %s, want about 1h", d)
	}
	// coturn's check: base64(HMAC-SHA1(secret, username)).
	_, want := rtc.TURNCredential("s3cret", "ann", time.Unix(secs, 0))
	if turn.Credential != want || turn.Credential == "s3cret" {
		t.Fatalf("credential %q, want %q", turn.Credential, want)
	}
}

func TestCallBothPartiesSeeEachOther(t *testing.T) {
	e := newEnv(t, rtc.Config{})
	e.authz.mu.Lock()
	e.authz.calls["c1"] = [2]string{"ann", "bob"}
	e.authz.mu.Unlock()
	base := e.url + "/api/rtc/calls/c1/"

	// Any order works: bob listens before ann sends anything.
	bobIn := rtctest.View(t, base+"subscribe", "bob")
	annOut := rtctest.Publish(t, base+"publish", "ann")
	bobOut := rtctest.Publish(t, base+"publish", "bob")
	annIn := rtctest.View(t, base+"subscribe", "ann")
	for _, r := range []rtctest.Result{bobIn.Result, annOut.Result, bobOut.Result, annIn.Result} {
		if r.Status != http.StatusCreated {
			t.Fatalf("call join: %d %s", r.Status, r.Body)
		}
	}
	waitPicture(t, bobIn, "bob sees ann")
	waitPicture(t, annIn, "ann sees bob")
	rtctest.Eventually(t, 5*time.Second, "both joined", func() bool {
		return e.log.has("joined c1 ann") && e.log.has("joined c1 bob")
	})

	// A third member: 403, and nothing of the call reaches them.
	eve := rtctest.View(t, base+"subscribe", "eve")
	if eve.Result.Status != http.StatusForbidden {
		t.Fatalf("stranger: %d %s", eve.Result.Status, eve.Result.Body)
	}
	if st := e.srv.Stats(); st.Calls != 1 || st.Sessions != 4 {
		t.Fatalf("stats = %+v", st)
	}

	// Hang-up ends it for both.
	e.srv.EndCall("c1")
	rtctest.Eventually(t, 5*time.Second, "call over", func() bool {
		st := e.srv.Stats()
		return st.Calls == 0 && st.Sessions == 0
	})
	rtctest.Eventually(t, 5*time.Second, "left events", func() bool {
		return e.log.has("left c1 ann") && e.log.has("left c1 bob")
	})
}

// One UDP port for everything: every server candidate uses it.
func TestSingleUDPPort(t *testing.T) {
	port := freeUDPPort(t)
	e := newEnv(t, rtc.Config{UDPPort: port})
	e.stream("s7", "host", "ann")
	pub := e.goLive(t, "s7", "host")
	ann := rtctest.View(t, e.url+"/api/rtc/live/s7/whep", "ann")
	waitPicture(t, ann, "ann")
	for _, answer := range []string{pub.Result.Body, ann.Result.Body} {
		if n, _ := candidatesOn(t, answer, port); n == 0 {
			t.Fatal("answer has no candidates")
		}
	}
}

// The same port serves IPv6: a viewer with IPv6 only watches an IPv4
// publisher.
func TestSingleUDPPortIPv6(t *testing.T) {
	// ICE never offers ::1: this needs a host with an IPv6 address.
	if !hostHasIPv6(t) {
		t.Skip("this host has no global IPv6 address")
	}
	port := freeUDPPort(t)
	e := newEnv(t, rtc.Config{UDPPort: port})
	e.stream("s8", "host", "ann")
	e.goLive(t, "s8", "host")
	bob := rtctest.ViewWith(t, e.url+"/api/rtc/live/s8/whep", "ann", rtctest.Options{Networks: []webrtc.NetworkType{webrtc.NetworkTypeUDP6}})
	if bob.Result.Status != http.StatusCreated {
		t.Fatalf("IPv6 viewer: %d %s", bob.Result.Status, bob.Result.Body)
	}
	waitPicture(t, bob, "the IPv6 viewer")
	if _, v6 := candidatesOn(t, bob.Result.Body, port); v6 == 0 {
		t.Fatal("no IPv6 candidate on the media port")
	}
}

func freeUDPPort(t *testing.T) int {
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// candidatesOn counts an answer's candidates (and its IPv6 ones), failing
// on any not on port.
func candidatesOn(t *testing.T, answer string, port int) (n, v6 int) {
	t.Helper()
	for _, line := range strings.Split(answer, "\n") {
		if strings.HasPrefix(line, "a=candidate:") {
			n++
			f := strings.Fields(line)
			if len(f) < 6 || f[5] != strconv.Itoa(port) {
				t.Fatalf("candidate not on port %d: %s", port, line)
			}
			if strings.Contains(f[4], ":") {
				v6++
			}
		}
	}
	return n, v6
}

func hostHasIPv6(t *testing.T) bool {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if ip, ok := a.(*net.IPNet); ok && ip.IP.To4() == nil && ip.IP.IsGlobalUnicast() {
			return true
		}
	}
	return false
}

// Offers are limited per member, not per address: one member who keeps
// reconnecting gets 429 while another member on the same IP still joins.
func TestOffersLimitedPerMember(t *testing.T) {
	e := newEnv(t, rtc.Config{MaxOffersPerMember: 3})
	e.stream("s9", "host", "ann", "bob")
	e.goLive(t, "s9", "host")
	url := e.url + "/api/rtc/live/s9/whep"
	for i := range 3 {
		v := rtctest.View(t, url, "ann")
		if v.Result.Status != http.StatusCreated {
			t.Fatalf("ann's offer %d: %d %s", i+1, v.Result.Status, v.Result.Body)
		}
		v.Close()
	}
	over := rtctest.View(t, url, "ann")
	if over.Result.Status != http.StatusTooManyRequests || over.Result.Header.Get("Retry-After") == "" {
		t.Fatalf("ann's 4th offer in a minute: %d %s", over.Result.Status, over.Result.Body)
	}
	if secs, err := strconv.Atoi(over.Result.Header.Get("Retry-After")); err != nil || secs < 1 || secs > 21 {
		t.Fatalf("Retry-After %q", over.Result.Header.Get("Retry-After"))
	}
	bob := rtctest.View(t, url, "bob")
	if bob.Result.Status != http.StatusCreated {
		t.Fatalf("bob on the same address: %d %s", bob.Result.Status, bob.Result.Body)
	}
	waitPicture(t, bob, "bob")
}

// Behind a 1:1 NAT (rtc_public_ip) the answer announces the public address
// in place of the host's own, on every candidate.
func TestPublicIPReplacesHostAddresses(t *testing.T) {
	port := freeUDPPort(t)
	e := newEnv(t, rtc.Config{UDPPort: port, PublicIPs: []string{"203.0.113.7"}})
	e.stream("s9", "host")
	pub := rtctest.Publish(t, e.url+"/api/rtc/live/s9/whip", "host")
	if pub.Result.Status != http.StatusCreated {
		t.Fatalf("publish: %d %s", pub.Result.Status, pub.Result.Body)
	}
	if n, _ := candidatesOn(t, pub.Result.Body, port); n == 0 {
		t.Fatal("answer has no candidates")
	}
	for _, line := range strings.Split(pub.Result.Body, "\n") {
		if f := strings.Fields(line); strings.HasPrefix(line, "a=candidate:") && len(f) > 4 &&
			f[4] != "203.0.113.7" && !strings.Contains(f[4], ":") { // IPv6 keeps its own

			t.Fatalf("an IPv4 candidate is not the public address: %s", line)
		}
	}
}
