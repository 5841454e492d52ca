package live_test

import (
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"salonbase/rtc"
	"salonbase/testutil"
)

// The ICE settings come from salon_settings; TURN credentials are
// short-lived HMACs for the member, never the shared secret.
func TestICEServersFromSettings(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	testutil.UpdateSettings(t, app, map[string]any{
		"rtc_stun_urls":   "stun:stun.example.org:3478",
		"rtc_turn_urls":   "turn:turn.example.org:3478?transport=udp turns:turn.example.org:5349",
		"rtc_turn_secret": "coturn-static-secret",
	})
	member := testutil.CreateUser(t, app, testutil.User{})
	srv := serveRTC(t, app)

	if status, _ := srv.Do(t, http.MethodGet, "/api/rtc/ice-servers", "", nil); status != http.StatusUnauthorized {
		t.Fatalf("anonymous: %d", status)
	}
	status, body := srv.Do(t, http.MethodGet, "/api/rtc/ice-servers", testutil.Token(t, member), nil)
	got := testutil.Decode[struct {
		ICEServers []rtc.ICEServer `json:"iceServers"`
		TTL        int             `json:"ttl"`
	}](t, body)
	if status != http.StatusOK || len(got.ICEServers) != 2 || got.TTL != 3600 {
		t.Fatalf("ice-servers: %d %s", status, body)
	}
	if strings.Contains(string(body), "coturn-static-secret") {
		t.Fatal("the TURN secret was handed out")
	}
	turn := got.ICEServers[1]
	if len(turn.URLs) != 2 || !strings.HasSuffix(turn.Username, ":"+member.Id) {
		t.Fatalf("turn server: %+v", turn)
	}
	exp, err := strconv.ParseInt(strings.SplitN(turn.Username, ":", 2)[0], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	if _, want := rtc.TURNCredential("coturn-static-secret", member.Id, time.Unix(exp, 0)); turn.Credential != want {
		t.Fatalf("credential %q, coturn expects %q", turn.Credential, want)
	}
	// The settings record does not show the secret to members either.
	_, body = srv.Do(t, http.MethodGet, "/api/collections/salon_settings/records", testutil.Token(t, member), nil)
	if strings.Contains(string(body), "coturn-static-secret") {
		t.Fatal("salon_settings shows the TURN secret")
	}
}

// rtc_turn_port starts the built-in TURN server: members get it first in
// their ICE servers, at rtc_turn_host, with a credential for themselves.
func TestBuiltinTURNFromSettings(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := c.LocalAddr().(*net.UDPAddr).Port
	c.Close()
	testutil.UpdateSettings(t, app, map[string]any{"rtc_turn_port": port, "rtc_turn_host": "media.example.org"})
	member := testutil.CreateUser(t, app, testutil.User{})
	srv := serveRTC(t, app)
	status, body := srv.Do(t, http.MethodGet, "/api/rtc/ice-servers", testutil.Token(t, member), nil)
	got := testutil.Decode[struct {
		ICEServers []rtc.ICEServer `json:"iceServers"`
	}](t, body)
	hp := "media.example.org:" + strconv.Itoa(port)
	if status != http.StatusOK || len(got.ICEServers) != 1 || len(got.ICEServers[0].URLs) != 2 ||
		got.ICEServers[0].URLs[0] != "turn:"+hp+"?transport=udp" || got.ICEServers[0].URLs[1] != "turn:"+hp+"?transport=tcp" ||
		!strings.HasSuffix(got.ICEServers[0].Username, ":"+member.Id) || got.ICEServers[0].Credential == "" {
		t.Fatalf("ice-servers: %d %s", status, body)
	}
	// The port is really served (TCP half; a second listener fails).
	if l, err := net.Listen("tcp4", "127.0.0.1:"+strconv.Itoa(port)); err == nil {
		l.Close()
		t.Fatal("nothing listens on the TURN port")
	}
}
