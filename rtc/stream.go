package rtc

import (
	"fmt"
	"net/http"
	"time"

	"github.com/pion/webrtc/v4"
)

// stream is a live stream: one publisher (WHIP), many viewers (WHEP).
// Fields are guarded by Server.mu.
type stream struct {
	id       string
	pub      *session
	expected int          // tracks the publisher announced
	tracks   []*forwarder // tracks whose media has arrived
	live     bool
	viewers  map[*session]struct{}
	grace    *time.Timer
}

func (s *Server) handlePublish(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	o, err := s.readOffer(r)
	if err != nil {
		writeError(w, err)
		return
	}
	g, err := s.authz.AuthorizePublish(r, id)
	if err != nil {
		writeError(w, err)
		return
	}
	g.Kind, g.Resource = KindPublish, id
	if o.sending == 0 {
		writeError(w, Errorf(http.StatusBadRequest, "the WHIP offer sends no media"))
		return
	}
	st := &stream{id: id, expected: o.sending, viewers: map[*session]struct{}{}}
	ss, err := s.register(g, func(ss *session) error {
		if cur := s.streams[id]; cur != nil {
			return Conflict("this stream already has a publisher; end that one first (DELETE its Location)")
		}
		if len(s.streams) >= s.cfg.MaxStreams {
			return Errorf(http.StatusServiceUnavailable, "the server is carrying %d live streams, its limit; try again later", len(s.streams))
		}
		st.pub = ss
		ss.detach = func() { s.publisherGone(st) }
		s.streams[id] = st
		return nil
	})
	if err != nil {
		writeError(w, err)
		return
	}
	pc, err := ss.newPC(liveCodecs)
	if err != nil {
		writeError(w, err)
		return
	}
	pc.OnTrack(func(remote *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
		kind := remote.Kind()
		f, err := newForwarder(remote.Codec().RTPCodecCapability, kind,
			fmt.Sprintf("%s-%d", kind, remote.SSRC()), "live-"+id)
		if err != nil {
			s.log.Error("rtc forwarder", "error", err)
			return
		}
		f.attach(pc, remote)
		go drainReceiverRTCP(recv)
		go f.run(remote)
		s.trackArrived(st, f)
	})
	ss.watch(pc, nil)
	s.answer(w, r, ss, pc, o)
}

// trackArrived adds a publisher track; the stream goes live when every
// announced track has media, or LiveGrace after the first one.
func (s *Server) trackArrived(st *stream, f *forwarder) {
	s.mu.Lock()
	if s.streams[st.id] != st {
		s.mu.Unlock()
		return // already ended
	}
	st.tracks = append(st.tracks, f)
	if len(st.tracks) < st.expected {
		if st.grace == nil {
			st.grace = time.AfterFunc(s.cfg.LiveGrace, func() { s.goLive(st) })
		}
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	s.goLive(st)
}

// goLive lets viewers in and tells the application, once.
func (s *Server) goLive(st *stream) {
	s.mu.Lock()
	if st.live || s.streams[st.id] != st {
		s.mu.Unlock()
		return
	}
	st.live = true
	if st.grace != nil {
		st.grace.Stop()
	}
	pub := st.pub.grant
	if fn := s.events.StreamLive; fn != nil {
		s.emit(func() { fn(st.id, pub) })
	}
	s.mu.Unlock()
}

// publisherGone ends the stream: every viewer is disconnected.
func (s *Server) publisherGone(st *stream) {
	s.mu.Lock()
	if s.streams[st.id] == st {
		delete(s.streams, st.id)
	}
	if st.grace != nil {
		st.grace.Stop()
	}
	viewers := make([]*session, 0, len(st.viewers))
	for v := range st.viewers {
		viewers = append(viewers, v)
	}
	if fn := s.events.StreamEnded; fn != nil && st.live {
		s.emit(func() { fn(st.id) })
	}
	s.mu.Unlock()
	for _, v := range viewers {
		v.close("stream ended")
	}
}

func (s *Server) handleView(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	o, err := s.readOffer(r)
	if err != nil {
		writeError(w, err)
		return
	}
	g, err := s.authz.AuthorizeView(r, id)
	if err != nil {
		writeError(w, err)
		return
	}
	g.Kind, g.Resource = KindView, id
	var st *stream
	var tracks []*forwarder
	ss, err := s.register(g, func(ss *session) error {
		st = s.streams[id]
		if st == nil || !st.live {
			return Conflict("the stream is not live (yet): watch its record and try again when it is live")
		}
		if len(st.viewers) >= s.cfg.MaxViewers {
			return Errorf(http.StatusServiceUnavailable, "the stream has %d viewers, its limit; try again later", len(st.viewers))
		}
		tracks = append(tracks, st.tracks...)
		st.viewers[ss] = struct{}{}
		s.viewerCount(id, len(st.viewers))
		ss.detach = func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			if _, ok := st.viewers[ss]; ok && s.streams[id] == st {
				delete(st.viewers, ss)
				s.viewerCount(id, len(st.viewers))
			}
		}
		return nil
	})
	if err != nil {
		writeError(w, err)
		return
	}
	pc, err := ss.newPC(liveCodecs)
	if err != nil {
		writeError(w, err)
		return
	}
	for _, f := range tracks {
		sender, err := pc.AddTrack(f.local)
		if err != nil {
			ss.close("add track failed")
			writeError(w, fmt.Errorf("add track: %w", err))
			return
		}
		go readSenderRTCP(sender, f)
	}
	ss.watch(pc, func() {
		// A new viewer can only start decoding at a keyframe.
		for _, f := range tracks {
			f.requestKeyframe()
		}
	})
	s.answer(w, r, ss, pc, o)
}

func (s *Server) viewerCount(id string, n int) {
	if fn := s.events.ViewerCount; fn != nil {
		s.emit(func() { fn(id, n) })
	}
}
