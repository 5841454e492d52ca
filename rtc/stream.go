package rtc

import (
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"
)

// stream is a live stream: one publisher (WHIP), many viewers (WHEP).
// Fields are guarded by Server.mu.
type stream struct {
	id       string
	pub      *session // nil while the publisher is away (see publisherLeft)
	expected int      // tracks the publisher announced
	tracks   []*forwarder
	// simulcast: video the publisher sends in several layers (RIDs);
	// each viewer gets one layer on its own track.
	simulcast []*layered
	live      bool
	viewers   map[*session]struct{}
	grace     *time.Timer // LiveGrace: go live with the tracks that arrived
	away      *time.Timer // RejoinGrace: end unless the publisher comes back
	awayGen   int
	rec       *recorder // nil unless recorded (record.go)
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
	var st *stream
	var replaced *session
	var rejoin []*forwarder // the live stream's tracks the new connection feeds
	var rejoinLayered []*layered
	ss, err := s.register(g, func(ss *session) error {
		cur := s.streams[id]
		switch {
		case cur != nil && cur.live:
			// The publisher is back (a reload, another device, a new
			// network) or replaces its own connection: whoever the
			// Authorizer lets publish takes over; the viewers keep their
			// tracks and the stream continues.
			st, replaced = cur, cur.pub
			rejoin = append(rejoin, cur.tracks...)
			rejoinLayered = append(rejoinLayered, cur.simulcast...)
			if cur.away != nil {
				cur.away.Stop()
				cur.away = nil
			}
		case cur != nil:
			// Not live yet: nobody watches; start over.
			replaced, cur.pub = cur.pub, nil
			if cur.grace != nil {
				cur.grace.Stop()
			}
			for _, l := range cur.simulcast {
				l.close()
			}
			delete(s.streams, id)
		}
		if st == nil {
			if len(s.streams) >= s.cfg.MaxStreams {
				return Errorf(http.StatusServiceUnavailable, "the server is carrying %d live streams, its limit; try again later", len(s.streams))
			}
			st = &stream{id: id, expected: o.sending, viewers: map[*session]struct{}{}}
			s.streams[id] = st
		}
		st.pub = ss
		ss.detach = func(final bool) { s.publisherLeft(st, ss, final) }
		return nil
	})
	if err != nil {
		writeError(w, err)
		return
	}
	if replaced != nil {
		replaced.drop("replaced by a new connection")
	}
	var only []webrtc.RTPCodecCapability
	for _, f := range rejoin {
		only = append(only, f.codec)
	}
	for _, l := range rejoinLayered {
		only = append(only, l.codec)
	}
	pc, err := ss.newPC(liveCodecs, only)
	if err != nil {
		writeError(w, err)
		return
	}
	var claimed sync.Map // rejoin forwarders already fed by this connection
	var layers sync.Map  // *webrtc.RTPReceiver → its *layered (a simulcast track's RIDs share one receiver)
	var remb sync.Map    // receivers whose REMB is being sent
	pc.OnTrack(func(remote *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
		kind := remote.Kind()
		if remote.RID() == "" {
			go s.readPublisherRTCP(recv, st)
		} else {
			go drainLayerRTCP(recv, remote.RID(), &layers)
		}
		// One REMB per video m-line: a simulcast publisher's layers share
		// one cap (libwebrtc applies REMB to its whole send rate).
		if _, sent := remb.LoadOrStore(recv, true); !sent && kind == webrtc.RTPCodecTypeVideo {
			go s.sendREMB(ss, pc, remote.SSRC())
		}
		// Simulcast layers; also a single-layer video that rejoins a
		// simulcast stream (the host moved from a browser to OBS).
		layeredVideo := remote.RID() != "" || (kind == webrtc.RTPCodecTypeVideo && len(rejoinLayered) > 0)
		if layeredVideo && s.addLayer(st, pc, remote, recv, &layers, rejoinLayered, len(rejoin)+len(rejoinLayered) > 0) {
			return
		}
		if len(rejoin) > 0 {
			for _, f := range rejoin {
				if f.kind != kind {
					continue
				}
				if _, taken := claimed.LoadOrStore(f, true); taken {
					continue
				}
				f.attach(pc, remote)
				go f.run(remote)
				return
			}
			// The viewers have no track for it (more tracks than before).
			s.log.Warn("rtc rejoining publisher sends an extra track; dropped", "stream", id, "kind", kind)
			go drainTrack(remote)
			return
		}
		f, err := newForwarder(remote.Codec().RTPCodecCapability, kind,
			fmt.Sprintf("%s-%d", kind, remote.SSRC()), "live-"+id)
		if err != nil {
			s.log.Error("rtc forwarder", "error", err)
			return
		}
		f.batch = s.batch
		f.attach(pc, remote)
		go f.run(remote)
		s.trackArrived(st, f)
	})
	ss.watch(pc, nil)
	s.answer(w, r, ss, pc, o)
}

// trackArrived adds a publisher track; the stream goes live when every
// announced track has media, or LiveGrace after the first one.
func (s *Server) trackArrived(st *stream, f *forwarder) {
	s.arrived(st, func() {
		st.tracks = append(st.tracks, f)
		s.recordTrack(st, f)
	})
}

// layeredArrived adds a publisher's simulcast video (one announced track).
func (s *Server) layeredArrived(st *stream, l *layered) {
	if !s.arrived(st, func() { st.simulcast = append(st.simulcast, l) }) {
		l.close()
	}
}

// arrived adds a track with add unless the stream ended already.
func (s *Server) arrived(st *stream, add func()) bool {
	s.mu.Lock()
	if s.streams[st.id] != st {
		s.mu.Unlock()
		return false // already ended
	}
	add()
	if len(st.tracks)+len(st.simulcast) < st.expected {
		if st.grace == nil {
			st.grace = time.AfterFunc(s.cfg.LiveGrace, func() { s.goLive(st) })
		}
		s.mu.Unlock()
		return true
	}
	s.mu.Unlock()
	s.goLive(st)
	return true
}

// goLive lets viewers in and tells the application, once.
func (s *Server) goLive(st *stream) {
	s.mu.Lock()
	if st.live || s.streams[st.id] != st || st.pub == nil {
		s.mu.Unlock()
		return
	}
	st.live = true
	if st.grace != nil {
		st.grace.Stop()
	}
	s.startRecording(st)
	if t := s.awaited[st.id]; t != nil {
		t.Stop()
		delete(s.awaited, st.id)
	}
	pub := st.pub.grant
	if fn := s.events.StreamLive; fn != nil {
		s.emit(func() { fn(st.id, pub) })
	}
	s.mu.Unlock()
}

// publisherLeft: a publisher's connection ended. Replaced, nothing more
// happens; dropped from a live stream, the viewers wait RejoinGrace for
// it; otherwise (DELETE, cut off, never live) the stream ends now.
func (s *Server) publisherLeft(st *stream, ss *session, final bool) {
	pc := ss.peer()
	for _, f := range st.tracks {
		f.detach(pc)
	}
	for _, l := range st.simulcast {
		l.detach(pc)
	}
	s.mu.Lock()
	if st.pub != ss {
		s.mu.Unlock()
		return
	}
	st.pub = nil
	if !final && st.live && !s.closed && s.streams[st.id] == st {
		st.awayGen++
		gen := st.awayGen
		st.away = time.AfterFunc(s.cfg.RejoinGrace, func() { s.endStream(st, gen) })
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	s.endStream(st, 0)
}

// endStream forgets st and disconnects its viewers and publisher. With
// awayGen > 0 (the rejoin timer) only if the publisher is still away.
func (s *Server) endStream(st *stream, awayGen int) {
	s.mu.Lock()
	if s.streams[st.id] != st || (awayGen > 0 && (st.pub != nil || st.awayGen != awayGen)) {
		s.mu.Unlock()
		return
	}
	delete(s.streams, st.id)
	for _, t := range []*time.Timer{st.grace, st.away} {
		if t != nil {
			t.Stop()
		}
	}
	for _, l := range st.simulcast {
		l.close()
	}
	pub, rec := st.pub, st.rec
	st.pub, st.rec = nil, nil
	viewers := make([]*session, 0, len(st.viewers))
	for v := range st.viewers {
		viewers = append(viewers, v)
	}
	// while the server closes, a live stream is paused, not ended (see Close)
	if fn := s.events.StreamEnded; fn != nil && st.live && !s.closed {
		s.emit(func() { fn(st.id) })
	}
	s.mu.Unlock()
	if pub != nil {
		pub.close("stream ended")
	}
	for _, v := range viewers {
		v.close("stream ended")
	}
	if rec != nil {
		s.finishRecording(st, rec)
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
	var simulcast []*layered
	ss, err := s.register(g, func(ss *session) error {
		st = s.streams[id]
		if st == nil || !st.live {
			return Conflict("the stream is not live (yet): watch its record and try again when it is live")
		}
		if len(st.viewers) >= s.cfg.MaxViewers {
			return Errorf(http.StatusServiceUnavailable, "the stream has %d viewers, its limit; try again later", len(st.viewers))
		}
		tracks = append(tracks, st.tracks...)
		simulcast = append(simulcast, st.simulcast...)
		st.viewers[ss] = struct{}{}
		s.viewerCount(id, len(st.viewers))
		ss.detach = func(bool) {
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
	// A simulcast stream's layer is chosen per viewer from the estimate
	// of the viewer's downlink; plain streams skip the estimator's cost.
	pc, bwe, err := ss.newViewerPC(liveCodecs, len(simulcast) > 0)
	if err != nil {
		writeError(w, err)
		return
	}
	var joins []func()
	for _, l := range simulcast {
		v, err := l.newViewer(bwe)
		var sender *webrtc.RTPSender
		if err == nil {
			sender, err = pc.AddTrack(v.local)
		}
		if err != nil {
			ss.close("add track failed")
			writeError(w, fmt.Errorf("add track: %w", err))
			return
		}
		go readLayerRTCP(sender, l, v)
		joins = append(joins, func() {
			l.join(v)
			<-ss.done
			l.removeViewer(v)
		})
	}
	for _, f := range tracks {
		sender, err := pc.AddTrack(f.local)
		if err != nil {
			ss.close("add track failed")
			writeError(w, fmt.Errorf("add track: %w", err))
			return
		}
		// A simulcast viewer's connection has its own NACK responder.
		go readSenderRTCP(sender, f, len(simulcast) == 0)
	}
	ss.watch(pc, func() {
		// A new viewer can only start decoding at a keyframe.
		for _, f := range tracks {
			f.requestKeyframe()
		}
		for _, join := range joins {
			go join()
		}
	})
	s.answer(w, r, ss, pc, o)
}

func (s *Server) viewerCount(id string, n int) {
	if fn := s.events.ViewerCount; fn != nil {
		s.emit(func() { fn(id, n) })
	}
}

// AwaitStream: the stream was live when the media server last stopped
// (Close does not end live streams). Its publisher has RejoinGrace to
// publish again, as after a dropped connection; if it does not, the stream
// ends (Events.StreamEnded). Viewers get 409 until it is live again.
func (s *Server) AwaitStream(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.awaited[id] != nil || s.streams[id] != nil {
		return
	}
	var t *time.Timer
	t = time.AfterFunc(s.cfg.RejoinGrace, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.closed || s.awaited[id] != t {
			return
		}
		delete(s.awaited, id)
		if s.streams[id] != nil {
			return // the publisher is back (going live)
		}
		if fn := s.events.StreamEnded; fn != nil {
			s.emit(func() { fn(id) })
		}
	})
	s.awaited[id] = t
}
