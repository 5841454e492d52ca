package rtc

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/webrtc/v4"
)

// Server is the media server: live streams (one publisher, many viewers)
// and 1:1 calls, with an HTTP API (see Handler).
type Server struct {
	cfg      Config
	authz    Authorizer
	events   Events
	log      *slog.Logger
	settings webrtc.SettingEngine
	batch    *sendBatch // the fan-outs whose writes are batched (Config.UDPBatch; nil: off)
	mux      io.Closer
	turn     io.Closer

	mu       sync.Mutex
	closed   bool
	streams  map[string]*stream
	awaited  map[string]*time.Timer // live before a restart, publisher not back yet (AwaitStream)
	calls    map[string]*call
	sessions map[string]*session // by resource id
	perUser  map[string]int
	offers   *memberLimiter

	evmu  sync.Mutex
	evq   []func()
	evsig chan struct{}
	stop  chan struct{}
	wg    sync.WaitGroup
}

// New starts a media server. Close it to release its UDP port and
// goroutines.
func New(cfg Config, authz Authorizer, events Events, log *slog.Logger) (*Server, error) {
	cfg = cfg.withDefaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		cfg: cfg, authz: authz, events: events, log: log,
		streams:  map[string]*stream{},
		awaited:  map[string]*time.Timer{},
		calls:    map[string]*call{},
		sessions: map[string]*session{},
		perUser:  map[string]int{},
		offers:   newMemberLimiter(cfg.MaxOffersPerMember),
		evsig:    make(chan struct{}, 1),
		stop:     make(chan struct{}),
	}
	var udp interface {
		io.Closer
	}
	var err error
	if cfg.UDPPort > 0 {
		if cfg.UDPBatch > 0 {
			s.batch = &sendBatch{}
		}
		m, err := newUDPMux(cfg, log, s.batch)
		if err != nil {
			return nil, err
		}
		udp = m
		s.settings, err = newSettingEngine(cfg, m)
		if err != nil {
			m.Close()
			return nil, err
		}
	} else if s.settings, err = newSettingEngine(cfg, nil); err != nil {
		return nil, err
	}
	s.mux = udp
	if cfg.TURNPort > 0 {
		if s.cfg.TURNSecret == "" {
			if s.cfg.TURNSecret, err = randomSecret(); err != nil {
				s.closeListeners()
				return nil, err
			}
		}
		t, err := startTURN(s.cfg)
		if err != nil {
			s.closeListeners()
			return nil, err
		}
		s.turn = t
	}
	s.wg.Add(2)
	go s.runEvents()
	go s.runRecheck()
	return s, nil
}

// Close ends every session and stops the server. Live streams are not
// reported ended: a stop is often a restart, after which the application
// calls AwaitStream for them and their publishers come back.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	all := make([]*session, 0, len(s.sessions))
	for _, ss := range s.sessions {
		all = append(all, ss)
	}
	s.mu.Unlock()
	for _, ss := range all {
		ss.close("server closing")
	}
	// Streams and calls waiting for a party to come back end now.
	s.mu.Lock()
	var streams []*stream
	for _, st := range s.streams {
		streams = append(streams, st)
	}
	var calls []string
	for id := range s.calls {
		calls = append(calls, id)
	}
	for id, t := range s.awaited {
		t.Stop()
		delete(s.awaited, id)
	}
	s.mu.Unlock()
	for _, st := range streams {
		s.endStream(st, 0)
	}
	for _, id := range calls {
		s.EndCall(id)
	}
	close(s.stop)
	s.wg.Wait()
	return s.closeListeners()
}

// closeListeners releases the UDP port and the TURN server.
func (s *Server) closeListeners() error {
	var errs []error
	for _, c := range []io.Closer{s.turn, s.mux} {
		if c != nil {
			errs = append(errs, c.Close())
		}
	}
	return errors.Join(errs...)
}

// Config returns the configuration in use (with defaults filled in).
func (s *Server) Config() Config { return s.cfg }

// Stats is a snapshot for tests and monitoring.
type Stats struct {
	Streams, Calls, Sessions int
	Forwarded                uint64 // RTP packets received from publishers and forwarded
	Resent                   uint64 // video packets sent again to a viewer or call party that lost them
	ResendsLimited           uint64 // packets asked for again too soon or too often, not resent
	// Batched sends (Config.UDPBatch): sendmmsg calls, the packets they
	// sent, the calls that sent a whole batch, and those that sent less
	// than they were given (an error after the first: a full socket buffer, say).
	UDPBatches, UDPBatched, UDPBatchesFull, UDPBatchesShort uint64
}

// Stats counts what is open now.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Stats{Streams: len(s.streams), Calls: len(s.calls), Sessions: len(s.sessions)}
	if b := s.batch; b != nil {
		st.UDPBatches, st.UDPBatched = b.calls.Load(), b.packets.Load()
		st.UDPBatchesFull, st.UDPBatchesShort = b.full.Load(), b.short.Load()
	}
	for _, str := range s.streams {
		for _, f := range str.tracks {
			st.Forwarded += f.packets.Load()
			st.Resent += f.resent.Load()
			st.ResendsLimited += f.resendsLimited.Load()
		}
		for _, l := range str.simulcast {
			st.Forwarded += l.packets.Load()
		}
	}
	for _, c := range s.calls {
		for _, p := range c.parties {
			st.Forwarded += p.video.packets.Load() + p.audio.packets.Load()
			st.Resent += p.video.resent.Load()
			st.ResendsLimited += p.video.resendsLimited.Load()
		}
	}
	return st
}

// Viewers is the number of connected viewers of a stream.
func (s *Server) Viewers(streamID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.streams[streamID]; st != nil {
		return len(st.viewers)
	}
	return 0
}

// EndStream disconnects the publisher and viewers of a stream at once
// (the host ended it from the app, an admin stopped it).
func (s *Server) EndStream(streamID string) {
	s.mu.Lock()
	st := s.streams[streamID]
	if t := s.awaited[streamID]; t != nil {
		t.Stop()
		delete(s.awaited, streamID)
	}
	s.mu.Unlock()
	if st != nil {
		s.endStream(st, 0)
	}
}

// EndCall disconnects both parties of a call (hang-up, decline).
func (s *Server) EndCall(callID string) {
	s.mu.Lock()
	var all []*session
	if c := s.calls[callID]; c != nil {
		for _, p := range c.parties {
			if p.send != nil {
				all = append(all, p.send)
			}
			if p.recv != nil {
				all = append(all, p.recv)
			}
			s.partyBackLocked(p, true)
		}
		s.forgetCallLocked(c)
	}
	s.mu.Unlock()
	for _, ss := range all {
		ss.close("call ended")
	}
}

// emit queues an event callback; callbacks run in order on one goroutine.
// It never blocks, so it may be called with s.mu held (which keeps events
// in the order the state changed).
func (s *Server) emit(fn func()) {
	s.evmu.Lock()
	s.evq = append(s.evq, fn)
	s.evmu.Unlock()
	select {
	case s.evsig <- struct{}{}:
	default:
	}
}

func (s *Server) runEvents() {
	defer s.wg.Done()
	for {
		s.evmu.Lock()
		q := s.evq
		s.evq = nil
		s.evmu.Unlock()
		for _, fn := range q {
			s.safe(fn)
		}
		if len(q) > 0 {
			continue
		}
		select {
		case <-s.evsig:
		case <-s.stop:
			s.evmu.Lock()
			q := s.evq
			s.evq = nil
			s.evmu.Unlock()
			for _, fn := range q {
				s.safe(fn)
			}
			return
		}
	}
}

// safe runs an application callback; a panic there must not kill the
// media server.
func (s *Server) safe(fn func()) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("rtc event callback panicked", "panic", r)
		}
	}()
	fn()
}

// runRecheck asks the Authorizer about every connected peer regularly.
func (s *Server) runRecheck() {
	defer s.wg.Done()
	t := time.NewTicker(s.cfg.RecheckInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		s.offers.sweep(time.Now())
		s.mu.Lock()
		all := make([]*session, 0, len(s.sessions))
		for _, ss := range s.sessions {
			all = append(all, ss)
		}
		s.mu.Unlock()
		for _, ss := range all {
			allowed := true
			func() {
				defer func() {
					if r := recover(); r != nil {
						s.log.Error("rtc StillAllowed panicked", "panic", r)
						allowed = false
					}
				}()
				allowed = s.authz.StillAllowed(ss.grant)
			}()
			if !allowed {
				ss.close("access revoked")
			}
		}
	}
}

// session is one peer connection and its place in a stream or call.
type session struct {
	id      string
	grant   Grant
	srv     *Server
	once    sync.Once
	mu      sync.Mutex
	pc      *webrtc.PeerConnection
	closed  bool
	mediaIn atomic.Bool      // a publisher's media arrived
	patchMu sync.Mutex       // one trickle/restart PATCH at a time
	detach  func(final bool) // removes it from its stream/call; runs once, after pc.Close
	done    chan struct{}
}

func newSessionID() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Errorf("crypto/rand: %w", err)) // never fails on supported platforms
	}
	return hex.EncodeToString(b)
}

// close ends the session for good: the member left (DELETE), was cut off,
// or the stream or call is over.
func (ss *session) close(reason string) { ss.end(reason, true) }

// drop ends the session because its peer went away (a reload, a closed
// tab, a lost network) or a new connection replaced it: the stream or call
// waits Config.RejoinGrace for the same party to come back.
func (ss *session) drop(reason string) { ss.end(reason, false) }

// end tears the session down once: the peer connection (which ends the
// forwarding and RTCP goroutines), its registration and its counts.
func (ss *session) end(reason string, final bool) {
	ss.once.Do(func() {
		close(ss.done)
		ss.srv.log.Debug("rtc session closed", "kind", ss.grant.Kind, "resource", ss.grant.Resource, "reason", reason)
		ss.mu.Lock()
		ss.closed = true
		pc := ss.pc
		ss.mu.Unlock()
		if pc != nil {
			_ = pc.Close()
		}
		s := ss.srv
		s.mu.Lock()
		if s.sessions[ss.id] == ss {
			delete(s.sessions, ss.id)
			if u := ss.grant.User; u != "" {
				if s.perUser[u]--; s.perUser[u] <= 0 {
					delete(s.perUser, u)
				}
			}
		}
		s.mu.Unlock()
		if ss.detach != nil {
			ss.detach(final)
		}
	})
}

func (ss *session) peer() *webrtc.PeerConnection {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.pc
}

// newPC gives the session its peer connection, unless the session was
// ended meanwhile (stream over, call hung up).
func (ss *session) newPC(set codecSet, only []webrtc.RTPCodecCapability) (*webrtc.PeerConnection, error) {
	pc, err := ss.srv.newPeerConnection(set, only)
	if err != nil {
		ss.close("peer connection failed")
		return nil, fmt.Errorf("peer connection: %w", err)
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.closed {
		_ = pc.Close()
		return nil, Conflict("the session ended before it started (stream or call over)")
	}
	ss.pc = pc
	return pc, nil
}

// newViewerPC is newPC for a viewer (or a call party's receiving
// connection); with estimate, the connection also estimates the viewer's
// downlink (see newViewerPeerConnection).
func (ss *session) newViewerPC(set codecSet, estimate bool) (*webrtc.PeerConnection, cc.BandwidthEstimator, error) {
	pc, bwe, err := ss.srv.newViewerPeerConnection(set, estimate)
	if err != nil {
		ss.close("peer connection failed")
		return nil, nil, fmt.Errorf("peer connection: %w", err)
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.closed {
		_ = pc.Close()
		return nil, nil, Conflict("the session ended before it started (stream or call over)")
	}
	ss.pc = pc
	return pc, bwe, nil
}

// watch closes the session when its peer goes away, or never connects.
func (ss *session) watch(pc *webrtc.PeerConnection, onConnected func()) {
	connected := make(chan struct{})
	var connOnce sync.Once
	pc.OnConnectionStateChange(func(state webrtc.PeerConnectionState) {
		switch state {
		case webrtc.PeerConnectionStateConnected:
			connOnce.Do(func() {
				close(connected)
				if onConnected != nil {
					go onConnected()
				}
			})
		case webrtc.PeerConnectionStateDisconnected, webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
			go ss.drop("peer " + state.String())
		}
	})
	// A client that posts an offer and never completes ICE/DTLS.
	timeout := 5 * ss.srv.cfg.DisconnectTimeout
	go func() {
		select {
		case <-connected:
		case <-time.After(timeout):
			ss.drop("never connected")
		case <-ss.done:
		}
	}()
}
