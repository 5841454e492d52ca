package rtc

import (
	"net/http"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"
)

// A call has two parties. Each party uses two peer connections, the way
// WHIP and WHEP do: "publish" sends its camera and microphone, "subscribe"
// receives the other party. The forwarding tracks of both parties exist
// from the first request on (calls negotiate VP8 + Opus only, which every
// browser sends), so either side may connect first, in any order, and
// media flows as soon as both are there. Fields are guarded by Server.mu.
type call struct {
	id      string
	parties map[string]*party // by member id
}

type party struct {
	call, user   string
	video, audio *forwarder
	send, recv   *session
	// A party whose sending connection dropped has RejoinGrace to connect
	// again before the call hears that it left.
	away      *time.Timer
	awayGen   int
	awayGrant Grant
	joined    bool // its media reached the server once (then leaving is news)
}

func newParty(callID, user string) (*party, error) {
	v, err := newForwarder(vp8Codec, webrtc.RTPCodecTypeVideo, "video", "call-"+user)
	if err != nil {
		return nil, err
	}
	a, err := newForwarder(opusCodec, webrtc.RTPCodecTypeAudio, "audio", "call-"+user)
	if err != nil {
		return nil, err
	}
	return &party{call: callID, user: user, video: v, audio: a}, nil
}

func (c *call) party(user string) (*party, error) {
	if p := c.parties[user]; p != nil {
		return p, nil
	}
	p, err := newParty(c.id, user)
	if err != nil {
		return nil, err
	}
	c.parties[user] = p
	return p, nil
}

func (s *Server) handleCall(kind Kind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		o, err := s.readOffer(r)
		if err != nil {
			writeError(w, err)
			return
		}
		g, err := s.authz.AuthorizeCall(r, id)
		if err != nil {
			writeError(w, err)
			return
		}
		g.Kind, g.Resource = kind, id
		if g.User == "" || g.Peer == "" || g.User == g.Peer {
			writeError(w, Forbidden("only the two parties of a call can join it"))
			return
		}
		if kind == KindCallSend && o.sending == 0 {
			writeError(w, Errorf(http.StatusBadRequest, "the publish offer sends no media"))
			return
		}
		var me, other *party
		var replaced *session
		ss, err := s.register(g, func(ss *session) error {
			c := s.calls[id]
			if c == nil {
				if len(s.calls) >= s.cfg.MaxCalls {
					return Errorf(http.StatusServiceUnavailable, "the server is carrying %d calls, its limit; try again later", len(s.calls))
				}
				c = &call{id: id, parties: map[string]*party{}}
			}
			for u := range c.parties {
				if u != g.User && u != g.Peer {
					return Forbidden("only the two parties of a call can join it")
				}
			}
			if me, err = c.party(g.User); err != nil {
				return err
			}
			if other, err = c.party(g.Peer); err != nil {
				return err
			}
			s.calls[id] = c
			// A reload or another device replaces the party's previous
			// connection at once instead of waiting for it to time out;
			// a party that dropped is back in time.
			if kind == KindCallSend {
				replaced, me.send = me.send, ss
				s.partyBackLocked(me, false)
			} else {
				replaced, me.recv = me.recv, ss
			}
			ss.detach = func(final bool) { s.partyGone(c, me, ss, final) }
			return nil
		})
		if err != nil {
			writeError(w, err)
			return
		}
		if replaced != nil {
			replaced.drop("replaced by a new connection")
		}
		// The receiving connection is a viewer's: what it lost is
		// resent from the forwarder's history (retransmit.go).
		var pc *webrtc.PeerConnection
		if kind == KindCallSend {
			pc, err = ss.newPC(callCodecs, nil)
		} else {
			pc, _, err = ss.newViewerPC(callCodecs, false)
		}
		if err != nil {
			writeError(w, err)
			return
		}
		if kind == KindCallSend {
			var joined sync.Once
			pc.OnTrack(func(remote *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
				f := me.audio
				if remote.Kind() == webrtc.RTPCodecTypeVideo {
					f = me.video
				}
				f.attach(pc, remote)
				go drainReceiverRTCP(recv)
				go f.run(remote)
				if f == me.video {
					go s.sendREMB(ss, pc, remote.SSRC())
				}
				joined.Do(func() {
					ss.mediaIn.Store(true)
					s.mu.Lock()
					me.joined = true
					s.mu.Unlock()
					if fn := s.events.CallJoined; fn != nil {
						s.emit(func() { fn(id, g) })
					}
				})
			})
			ss.watch(pc, nil)
		} else {
			for _, f := range []*forwarder{other.video, other.audio} {
				sender, err := pc.AddTrack(f.local)
				if err != nil {
					ss.close("add track failed")
					writeError(w, err)
					return
				}
				go readSenderRTCP(sender, f, true)
			}
			ss.watch(pc, other.video.requestKeyframe)
		}
		s.answer(w, r, ss, pc, o)
	}
}

// partyGone unregisters one of a party's connections. A sending
// connection that dropped starts the party's RejoinGrace; one that was
// closed for good (DELETE, cut off, hang-up) tells the application now. A
// call with no connections and nobody away is forgotten.
func (s *Server) partyGone(c *call, p *party, ss *session, final bool) {
	pc := ss.peer()
	p.video.detach(pc)
	p.audio.detach(pc)
	s.mu.Lock()
	defer s.mu.Unlock()
	switch ss {
	case p.send:
		p.send = nil
		// A connection of a party that joined before counts even if its
		// own media never came (a rejoin that failed).
		if ss.mediaIn.Load() || p.joined {
			if final || s.closed {
				s.callLeftLocked(c.id, ss.grant)
			} else {
				p.awayGen++
				gen, g := p.awayGen, ss.grant
				p.awayGrant = g
				p.away = time.AfterFunc(s.cfg.RejoinGrace, func() { s.partyAway(c, p, gen) })
			}
		}
	case p.recv:
		p.recv = nil
	default:
		return // replaced already
	}
	s.forgetCallLocked(c)
}

// partyAway: the grace is over and the party did not come back.
func (s *Server) partyAway(c *call, p *party, gen int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.away == nil || p.awayGen != gen || p.send != nil {
		return
	}
	s.partyBackLocked(p, true)
	s.forgetCallLocked(c)
}

// partyBackLocked stops a party's grace timer: it is back, or (left) the
// call is over for it, which the application hears now.
func (s *Server) partyBackLocked(p *party, left bool) {
	if p.away == nil {
		return
	}
	p.away.Stop()
	p.away = nil
	if left {
		s.callLeftLocked(p.call, p.awayGrant)
	}
}

func (s *Server) callLeftLocked(callID string, g Grant) {
	if fn := s.events.CallLeft; fn != nil {
		s.emit(func() { fn(callID, g) })
	}
}

// forgetCallLocked drops c when nobody is connected or away.
func (s *Server) forgetCallLocked(c *call) {
	for _, q := range c.parties {
		if q.send != nil || q.recv != nil || q.away != nil {
			return
		}
	}
	if s.calls[c.id] == c {
		delete(s.calls, c.id)
	}
}
