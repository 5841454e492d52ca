package rtc

import (
	"net/http"
	"sync"

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
	user         string
	video, audio *forwarder
	send, recv   *session
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
	return &party{user: user, video: v, audio: a}, nil
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
			// A reload replaces the party's previous connection at once
			// instead of waiting for it to time out.
			if kind == KindCallSend {
				replaced, me.send = me.send, ss
			} else {
				replaced, me.recv = me.recv, ss
			}
			ss.detach = func() { s.partyGone(c, me, ss) }
			return nil
		})
		if err != nil {
			writeError(w, err)
			return
		}
		if replaced != nil {
			replaced.close("replaced by a new connection")
		}
		pc, err := ss.newPC(callCodecs)
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
				joined.Do(func() {
					ss.mediaIn.Store(true)
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
				go readSenderRTCP(sender, f)
			}
			ss.watch(pc, other.video.requestKeyframe)
		}
		s.answer(w, r, ss, pc, o)
	}
}

// partyGone unregisters one of a party's connections; a call whose
// connections are all gone is forgotten.
func (s *Server) partyGone(c *call, p *party, ss *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch ss {
	case p.send:
		p.send = nil
		pc := ss.peer()
		p.video.detach(pc)
		p.audio.detach(pc)
		if fn := s.events.CallLeft; fn != nil && ss.mediaIn.Load() {
			g := ss.grant
			s.emit(func() { fn(c.id, g) })
		}
	case p.recv:
		p.recv = nil
	default:
		return // replaced already
	}
	for _, q := range c.parties {
		if q.send != nil || q.recv != nil {
			return
		}
	}
	if s.calls[c.id] == c {
		delete(s.calls, c.id)
	}
}
