package rtc

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/pion/turn/v5"
)

// The built-in TURN server (pion/turn), so members behind strict NATs and
// firewalls connect with nothing else installed. It accepts the same
// time-limited credentials the media API hands out ("<expiry>:<member>",
// HMAC-SHA1 with TURNSecret), on UDP and TCP at Config.TURNPort. Relays may
// only reach this host's own addresses, i.e. the media server: it is not
// an open relay into the network it runs in.

// startTURN starts the TURN server; the caller closes it.
func startTURN(cfg Config) (*turn.Server, error) {
	relayIP, err := turnRelayIP(cfg)
	if err != nil {
		return nil, err
	}
	own, err := ownAddresses(cfg)
	if err != nil {
		return nil, err
	}
	// One UDP socket per address: a reply leaves from the address the
	// client sent to (a socket on 0.0.0.0 may answer from another one,
	// which clients drop). TCP connections need no such care.
	var conns []net.PacketConn
	closeAll := func() {
		for _, c := range conns {
			c.Close()
		}
	}
	for _, ip := range own {
		if ip.To4() == nil || slices.ContainsFunc(cfg.PublicIPs, func(p string) bool { return net.ParseIP(p).Equal(ip) && !isLocal(ip) }) {
			continue
		}
		c, err := net.ListenPacket("udp4", net.JoinHostPort(ip.String(), strconv.Itoa(cfg.TURNPort)))
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("turn: listen udp %s port %d: %w", ip, cfg.TURNPort, err)
		}
		conns = append(conns, c)
	}
	addr := net.JoinHostPort("0.0.0.0", strconv.Itoa(cfg.TURNPort))
	tcp, err := net.Listen("tcp4", addr)
	if err != nil {
		closeAll()
		return nil, fmt.Errorf("turn: listen tcp %s: %w", addr, err)
	}
	relays := func() turn.RelayAddressGenerator {
		return &turn.RelayAddressGeneratorStatic{RelayAddress: relayIP, Address: "0.0.0.0"}
	}
	onlyHere := func(_ net.Addr, peer net.IP) bool {
		return slices.ContainsFunc(own, func(ip net.IP) bool { return ip.Equal(peer) })
	}
	var packetConns []turn.PacketConnConfig
	for _, c := range conns {
		packetConns = append(packetConns, turn.PacketConnConfig{PacketConn: c, RelayAddressGenerator: relays(), PermissionHandler: onlyHere})
	}
	srv, err := turn.NewServer(turn.ServerConfig{
		Realm:             "salonbase",
		AuthHandler:       turn.LongTermTURNRESTAuthHandler(cfg.TURNSecret, nil),
		PacketConnConfigs: packetConns,
		ListenerConfigs:   []turn.ListenerConfig{{Listener: tcp, RelayAddressGenerator: relays(), PermissionHandler: onlyHere}},
	})
	if err != nil {
		closeAll()
		tcp.Close()
		return nil, fmt.Errorf("turn: %w", err)
	}
	return srv, nil
}

// turnRelayIP is where relays are announced: TURNRelayIP, else the first
// public IP, else the host's first non-loopback IPv4 address (loopback
// when it has none).
func turnRelayIP(cfg Config) (net.IP, error) {
	for _, s := range append([]string{cfg.TURNRelayIP}, cfg.PublicIPs...) {
		if s == "" {
			continue
		}
		if ip := net.ParseIP(s).To4(); ip != nil {
			return ip, nil
		}
		return nil, fmt.Errorf("turn: relay address %q is not an IPv4 address", s)
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil, fmt.Errorf("turn: interface addresses: %w", err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() {
			return n.IP.To4(), nil
		}
	}
	return net.IPv4(127, 0, 0, 1).To4(), nil
}

// isLocal: is ip an address of this host's interfaces?
func isLocal(ip net.IP) bool {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.Equal(ip) {
			return true
		}
	}
	return false
}

// ownAddresses are the addresses relays may send to: the host's own and
// the announced public ones (where the media server's candidates are).
func ownAddresses(cfg Config) ([]net.IP, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil, fmt.Errorf("turn: interface addresses: %w", err)
	}
	var out []net.IP
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			out = append(out, n.IP)
		}
	}
	for _, s := range cfg.PublicIPs {
		if ip := net.ParseIP(s); ip != nil {
			out = append(out, ip)
		}
	}
	return out, nil
}

// randomSecret is the TURN secret when none is configured: credentials
// handed out are valid until the server restarts or they expire.
func randomSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("turn secret: %w", err)
	}
	return base64.RawStdEncoding.EncodeToString(b), nil
}

// iceServers is what a client gets: the configured STUN/TURN servers and
// the built-in TURN server, reached at TURNHost or the host the client
// used for this request.
func (s *Server) iceServers(r *http.Request, user string) []ICEServer {
	c := s.cfg
	if c.TURNPort > 0 {
		host := c.TURNHost
		if host == "" {
			host = r.Host
			if h, _, err := net.SplitHostPort(r.Host); err == nil {
				host = h
			}
		}
		hp := net.JoinHostPort(host, strconv.Itoa(c.TURNPort))
		c.TURNURLs = append([]string{"turn:" + hp + "?transport=udp", "turn:" + hp + "?transport=tcp"}, c.TURNURLs...)
	}
	return c.ICEServers(user, time.Now())
}
