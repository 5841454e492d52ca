package rtc

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"strconv"
	"time"
)

// Config is everything the media server needs to know about its network
// and its limits. The zero value is usable (ephemeral UDP ports, default
// limits); see Defaults for the numbers.
type Config struct {
	// STUNURLs are handed to clients ("stun:stun.example.com:3478").
	STUNURLs []string
	// TURNURLs are handed to clients with short-lived credentials made
	// from TURNSecret (coturn: use-auth-secret + static-auth-secret).
	// Without a secret no TURN server is handed out.
	TURNURLs   []string
	TURNSecret string
	// TURNTTL is how long a TURN credential stays valid (default 1h).
	TURNTTL time.Duration
	// TURNPort > 0 runs the built-in TURN server on this port (UDP and
	// TCP, IPv4), handed to clients ahead of TURNURLs. Without TURNSecret
	// it makes a random one at start. TURNHost is the name clients reach
	// it at (default: the host of their request); TURNRelayIP the address
	// relays are announced at (default: the first PublicIPs, else the
	// host's first non-loopback IPv4).
	TURNPort    int
	TURNHost    string
	TURNRelayIP string

	// PublicIPs are announced instead of the host's own addresses when the
	// server sits behind a 1:1 NAT (a cloud VM with a floating IP).
	PublicIPs []string
	// UDPPort > 0 makes every peer connection share one UDP port (ICE UDP
	// mux), so the firewall needs one open port. 0 = an ephemeral port
	// per connection, limited to [PortMin, PortMax] when those are set.
	UDPPort          int
	PortMin, PortMax uint16
	// IncludeLoopback offers 127.0.0.1 candidates (tests, local demos).
	IncludeLoopback bool

	// RecordDir holds the files of recordings under way (default: the
	// system's temporary directory).
	RecordDir string

	// Limits; a value <= 0 takes the default.
	MaxStreams         int   // concurrent live streams (503 beyond)
	MaxViewers         int   // viewers per stream (503 beyond)
	MaxCalls           int   // concurrent calls (503 beyond)
	MaxSessionsPerUser int   // peer connections one member may hold (429 beyond)
	MaxSDPBytes        int64 // size of an SDP offer (413 beyond)
	MaxTracks          int   // media sections in one offer (413 beyond)
	MaxOffersPerMember int   // offers (publish/view/call POSTs) per member per minute (429 beyond)

	// RecheckInterval is how often the Authorizer is asked whether each
	// connected peer may stay (rank lowered, suspended, call ended).
	RecheckInterval time.Duration
	// DisconnectTimeout is how long a silent peer is kept before ICE
	// reports it failed and it is cleaned up.
	DisconnectTimeout time.Duration
	// LiveGrace is how long a publisher has to start every track it
	// announced before the stream goes live with the tracks it has.
	LiveGrace time.Duration
	// RejoinGrace is how long a live stream or a call waits for a
	// publisher or call party whose connection dropped (a reload, a closed
	// tab, a lost network) to connect again before it ends. Viewers stay
	// connected meanwhile. A DELETE of the session ends it at once.
	RejoinGrace time.Duration
	// MaxPublishBitrate (bits/s) is the most a publisher is asked to send
	// (REMB, once a second).
	MaxPublishBitrate int
	// StartPublishBitrate (bits/s) is what a browser publisher is asked to
	// start sending video at (see withStartBitrate); -1: Chrome's own
	// start (300 kbit/s).
	StartPublishBitrate int
	// UDPBatch: the media port's IPv4 packets to the viewers of one
	// forwarded packet go out in batches of up to UDPBatch per system call
	// (sendmmsg; see batch.go). Default 32; -1: one sendto per packet.
	UDPBatch int
}

// Defaults fills the zero fields of c.
func (c Config) withDefaults() Config {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.MaxStreams, 20)
	def(&c.MaxViewers, 500)
	def(&c.MaxCalls, 100)
	def(&c.MaxSessionsPerUser, 6)
	def(&c.MaxTracks, 4)
	def(&c.MaxOffersPerMember, 30)
	if c.MaxSDPBytes <= 0 {
		c.MaxSDPBytes = 64 << 10
	}
	if c.TURNTTL <= 0 {
		c.TURNTTL = time.Hour
	}
	if c.RecheckInterval <= 0 {
		c.RecheckInterval = 2 * time.Second
	}
	if c.DisconnectTimeout <= 0 {
		c.DisconnectTimeout = 3 * time.Second
	}
	if c.LiveGrace <= 0 {
		c.LiveGrace = 2 * time.Second
	}
	if c.RejoinGrace <= 0 {
		c.RejoinGrace = 15 * time.Second
	}
	def(&c.MaxPublishBitrate, 6_000_000)
	if c.UDPBatch == 0 {
		c.UDPBatch = 32
	}
	if c.StartPublishBitrate == 0 {
		c.StartPublishBitrate = 1_500_000
	}
	return c
}

// ICEServer is one entry of RTCConfiguration.iceServers as browsers and
// the PocketBase SDK's callers expect it.
type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

// ICEServers returns the servers a client should use, with a TURN
// credential for user valid until now+TURNTTL.
func (c Config) ICEServers(user string, now time.Time) []ICEServer {
	c = c.withDefaults()
	var out []ICEServer
	if len(c.STUNURLs) > 0 {
		out = append(out, ICEServer{URLs: c.STUNURLs})
	}
	if len(c.TURNURLs) > 0 && c.TURNSecret != "" {
		name, pass := TURNCredential(c.TURNSecret, user, now.Add(c.TURNTTL))
		out = append(out, ICEServer{URLs: c.TURNURLs, Username: name, Credential: pass})
	}
	return out
}

// TURNCredential makes a time-limited TURN credential in the form of the
// "TURN REST API" that coturn implements (use-auth-secret): the username is
// "<unix expiry>:<user>" and the password base64(HMAC-SHA1(secret, username)).
// coturn refuses it after the expiry, so a leaked credential dies on its own.
func TURNCredential(secret, user string, expires time.Time) (username, password string) {
	username = strconv.FormatInt(expires.Unix(), 10)
	if user != "" {
		username = fmt.Sprintf("%s:%s", username, user)
	}
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write([]byte(username))
	return username, base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
