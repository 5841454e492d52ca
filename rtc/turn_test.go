package rtc_test

import (
	"encoding/json"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/turn/v5"
	"github.com/pion/webrtc/v4"

	"salonbase/rtc"
	"salonbase/rtc/rtctest"
)

// iceServersFor asks the media API for ICE servers as a member would.
func iceServersFor(t *testing.T, e *env, token string) []webrtc.ICEServer {
	t.Helper()
	r := rtctest.Do(t, http.MethodGet, e.url+"/api/rtc/ice-servers", token, "", "")
	var out struct {
		ICEServers []rtc.ICEServer `json:"iceServers"`
	}
	if err := json.Unmarshal([]byte(r.Body), &out); err != nil || r.Status != http.StatusOK {
		t.Fatalf("ice-servers: %d %s", r.Status, r.Body)
	}
	var servers []webrtc.ICEServer
	for _, s := range out.ICEServers {
		servers = append(servers, webrtc.ICEServer{URLs: s.URLs, Username: s.Username, Credential: s.Credential})
	}
	return servers
}

// A viewer that may only use a relay (iceTransportPolicy "relay": a
// strict NAT or firewall) watches through the built-in TURN server, over
// UDP and over TCP, with the credentials the media API hands out.
func TestBuiltinTURNRelayOnly(t *testing.T) {
	port := freeUDPPort(t)
	e := newEnv(t, rtc.Config{TURNPort: port, TURNRelayIP: "127.0.0.1"})
	e.stream("tr", "host", "ann")
	e.goLive(t, "tr", "host")

	servers := iceServersFor(t, e, "ann")
	if len(servers) != 1 || len(servers[0].URLs) != 2 ||
		!strings.HasSuffix(servers[0].Username, ":ann") {
		t.Fatalf("ice servers: %+v", servers)
	}
	for _, transport := range []string{"udp", "tcp"} {
		var url string
		for _, u := range servers[0].URLs {
			if strings.HasSuffix(u, "?transport="+transport) {
				url = u
			}
		}
		if !strings.HasPrefix(url, "turn:127.0.0.1:") {
			t.Fatalf("no %s TURN url in %v", transport, servers[0].URLs)
		}
		only := []webrtc.ICEServer{{URLs: []string{url}, Username: servers[0].Username, Credential: servers[0].Credential}}
		v := rtctest.ViewWith(t, e.url+"/api/rtc/live/tr/whep", "ann", rtctest.Options{ICEServers: only, Relay: true})
		if v.Result.Status != http.StatusCreated {
			t.Fatalf("%s relay viewer: %d %s", transport, v.Result.Status, v.Result.Body)
		}
		waitPicture(t, v, "the viewer relayed over "+transport)
		if typ := rtctest.SelectedLocalType(v.PC); typ != webrtc.ICECandidateTypeRelay {
			t.Fatalf("%s: the selected local candidate is %s, want relay", transport, typ)
		}
		v.Close()
	}

	// A forged credential gets no relay: the viewer never connects.
	forged := []webrtc.ICEServer{{URLs: servers[0].URLs[:1], Username: servers[0].Username, Credential: "Zm9yZ2Vk"}}
	bad := rtctest.ViewWith(t, e.url+"/api/rtc/live/tr/whep", "ann", rtctest.Options{ICEServers: forged, Relay: true})
	time.Sleep(3 * time.Second)
	if st := bad.Stats().State; st == webrtc.PeerConnectionStateConnected {
		t.Fatal("a forged TURN credential connected")
	}
	if n := len(bad.Stats().Keyframes); n != 0 {
		t.Fatalf("a forged TURN credential received %d pictures", n)
	}
}

// The built-in TURN server is no open relay: an allocation may reach the
// media server's own addresses only, not other hosts of its network.
func TestBuiltinTURNRelaysOnlyToThisHost(t *testing.T) {
	port := freeUDPPort(t)
	e := newEnv(t, rtc.Config{TURNPort: port, TURNRelayIP: "127.0.0.1"})
	servers := iceServersFor(t, e, "ann")
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	addr := "127.0.0.1:" + strconv.Itoa(port)
	c, err := turn.NewClient(&turn.ClientConfig{STUNServerAddr: addr, TURNServerAddr: addr, Conn: conn,
		Username: servers[0].Username, Password: servers[0].Credential.(string), Realm: "salonbase"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Listen(); err != nil {
		t.Fatal(err)
	}
	relay, err := c.Allocate()
	if err != nil {
		t.Fatalf("allocate with a minted credential: %v", err)
	}
	defer relay.Close()
	// The host itself: allowed (a local UDP socket receives it).
	here, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer here.Close()
	if _, err := relay.WriteTo([]byte("hello"), here.LocalAddr()); err != nil {
		t.Fatalf("relay to this host: %v", err)
	}
	buf := make([]byte, 64)
	_ = here.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, _, err := here.ReadFrom(buf); err != nil || string(buf[:n]) != "hello" {
		t.Fatalf("relayed datagram: %q %v", buf[:n], err)
	}
	// Another host (a private address that is not ours): refused.
	if _, err := relay.WriteTo([]byte("hello"), &net.UDPAddr{IP: net.IPv4(10, 255, 0, 1), Port: 9}); err == nil {
		t.Fatal("the relay accepted a peer that is not this host")
	}
}
