package rtc

import (
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// Layer choice (the way LiveKit's forwarder latches onto a target layer at
// its keyframe): a viewer drops to a layer that fits its estimate as soon
// as the estimate falls below its layer (congestion hurts now: the
// sooner the switch, the fewer packets the bottleneck's queue drops), and
// climbs only when the next layer fits with a margin for a while, so an
// estimate wobbling around a layer's bitrate does not make it switch back
// and forth.
const (
	layerTick       = 100 * time.Millisecond // how often a fall is looked for
	layerRateTicks  = 5                      // layer bitrates and climbs: every 5 ticks
	layerIdle       = 3 * time.Second        // a layer without packets this long is paused
	layerUpMargin   = 1.25                   // estimate ≥ 1.25 × the higher layer's bitrate...
	layerUpHold     = 2 * time.Second        // ...for this long
	layerPLIEvery   = int64(time.Second)     // a keyframe request unanswered this long is repeated
	layerBackoff    = 5 * time.Second        // no climb this long after a fall...
	layerBackoffMax = time.Minute            // ...doubling while climbs keep failing
	layerUpStable   = 20 * time.Second       // a climb that held this long succeeded
	layerClimbWait  = 3 * time.Second        // a climb whose keyframe has not come by then is given up
	layerFellFor    = time.Second            // an estimate that fell this recently...
	layerFellBelow  = 0.75                   // ...below this share of the layer's bitrate, with loss, is congestion...
	layerSettle     = time.Second            // ...unless it fell this soon after a switch
	layerDownTicks  = 5                      // or loss or growing delay seen this many ticks in a row
	viewerStartBWE  = 2_500_000              // bits/s: a new viewer starts on the layer this fits
	viewerMaxBWE    = 20_000_000
)

// layered forwards one simulcast video track: the publisher sends the same
// picture in up to three encodings (RTP stream ids, e.g. q/h/f) and every
// viewer receives ONE of them on its own outgoing track, chosen from that
// viewer's estimated downlink. Each viewer has its own munger, so a layer
// switch looks like one continuous stream to its decoder. A publisher that
// rejoins feeds the same layers by their ids.
type layered struct {
	codec    webrtc.RTPCodecCapability
	trackID  string
	streamID string
	log      *slog.Logger // nil: none

	mu      sync.Mutex
	source  *webrtc.PeerConnection
	layers  map[string]*layer // by RID
	viewers map[*layerViewer]struct{}

	packets atomic.Uint64
	stop    chan struct{}
	once    sync.Once
}

// layer is one encoding of a simulcast track.
type layer struct {
	rid    string
	remote *webrtc.TrackRemote
	ssrc   uint32
	bytes  atomic.Uint64
	lastAt atomic.Int64 // unix nanos of its last packet
	// guarded by layered.mu
	rate      float64 // bits/s, smoothed
	seenBytes uint64
	// pliAt: when the keyframe request on its way was sent (unix nanos;
	// 0 when the layer's last keyframe came after it)
	pliAt atomic.Int64
	// frames, keyframes and keyframe requests (PLIs sent) so far
	frames, keyframes, plis atomic.Uint64
}

// layerViewer is one viewer's outgoing track of a layered track.
type layerViewer struct {
	local   *webrtc.TrackLocalStaticRTP
	bwe     cc.BandwidthEstimator // nil: no estimate, the highest layer
	current string                // the layer forwarded ("" none yet)
	target  string                // the layer switched to at its next keyframe
	started bool                  // current is set
	// cleanSince: since when the link shows neither loss nor growing
	// delay; lastEst: the estimate at the previous tick; fellAt: when
	// the estimate last fell (GCC lowers it only on growing delay or
	// heavy loss); switchedAt: when current began; congested: for how
	// many ticks in a row GCC has seen loss or growing delay below the
	// layer
	cleanSince time.Time
	lastEst    int
	fellAt     time.Time
	switchedAt time.Time
	congested  int
	// After the estimate falls, climbing waits upBlocked (longer each time
	// a climb soon fell back): without probing, a climb is the probe, and
	// a link that cannot carry the layer would otherwise see it every few
	// seconds.
	upBlocked time.Time
	backoff   time.Duration
	upAt      time.Time
	munger    munger
	vp8       *vp8Munger // VP8 only
	rec       *forwarder // a recording's viewer: the top layer, into rec
	out       rtp.Packet
	targetAt  time.Time // when target last changed
	n         viewerCounts
}

// switchInput prepares v's mungers for another layer's packets.
func (v *layerViewer) switchInput() {
	v.munger.switchInput()
	if v.vp8 != nil {
		v.vp8.switchInput()
	}
}

func newLayered(codec webrtc.RTPCodecCapability, trackID, streamID string, log *slog.Logger) *layered {
	l := &layered{codec: codec, trackID: trackID, streamID: streamID, log: log,
		layers: map[string]*layer{}, viewers: map[*layerViewer]struct{}{}, stop: make(chan struct{})}
	go l.choose()
	return l
}

// close stops the layer choice (the stream ended).
func (l *layered) close() { l.once.Do(func() { close(l.stop) }) }

// attach makes remote (a track of source) the layer of its RID. Viewers
// on that layer wait for its next keyframe (asked for at once).
func (l *layered) attach(source *webrtc.PeerConnection, remote *webrtc.TrackRemote) *layer {
	ly := &layer{rid: remote.RID(), remote: remote, ssrc: uint32(remote.SSRC())}
	l.mu.Lock()
	if l.source != source {
		// A new publisher connection: the old one's layers are gone.
		l.source = source
		clear(l.layers)
	}
	if old := l.layers[ly.rid]; old != nil {
		ly.rate = old.rate
	}
	l.layers[ly.rid] = ly
	for v := range l.viewers {
		if v.current == ly.rid && v.started {
			v.switchInput()
		}
	}
	l.mu.Unlock()
	l.requestKeyframe(ly)
	return ly
}

// detach forgets source's layers if it is still the input.
func (l *layered) detach(source *webrtc.PeerConnection) {
	if source == nil {
		return
	}
	l.mu.Lock()
	if l.source == source {
		l.source = nil
		clear(l.layers)
	}
	l.mu.Unlock()
}

// newViewer makes a viewer's own outgoing track; its layer is chosen from
// bwe (the viewer connection's bandwidth estimator).
func (l *layered) newViewer(bwe cc.BandwidthEstimator) (*layerViewer, error) {
	local, err := webrtc.NewTrackLocalStaticRTP(l.codec, l.trackID, l.streamID)
	if err != nil {
		return nil, err
	}
	v := &layerViewer{local: local, bwe: bwe}
	if strings.EqualFold(l.codec.MimeType, webrtc.MimeTypeVP8) {
		v.vp8 = &vp8Munger{}
	}
	return v, nil
}

// join starts forwarding to v once its connection is up, so that the
// first packet it gets is a keyframe: that of the first layer at or below
// its target to send one (see run), asked for at once.
func (l *layered) join(v *layerViewer) {
	l.mu.Lock()
	l.viewers[v] = struct{}{}
	v.n.joined = time.Now()
	l.retarget(v, v.n.joined, true)
	ly := l.layers[v.target]
	l.mu.Unlock()
	if ly != nil {
		l.requestKeyframe(ly)
	}
}

// notAbove reports whether ly is the layer target or one below it (a
// viewer without a picture yet may start on it). Guarded by mu.
func (l *layered) notAbove(ly *layer, target string) bool {
	t := l.layers[target]
	if t == nil || t == ly {
		return true
	}
	return compareLayers(ly, t, ranked(l.layers)) <= 0
}

func (l *layered) removeViewer(v *layerViewer) {
	l.mu.Lock()
	if _, ok := l.viewers[v]; ok {
		l.logLeft(v, time.Now())
	}
	delete(l.viewers, v)
	l.mu.Unlock()
}

// run forwards one layer's packets to the viewers on it, and switches a
// viewer waiting for this layer at the layer's keyframe.
func (l *layered) run(ly *layer) {
	buf := make([]byte, 1500)
	var pkt rtp.Packet
	for {
		n, _, err := ly.remote.Read(buf)
		if err != nil {
			return
		}
		if err := pkt.Unmarshal(buf[:n]); err != nil {
			continue
		}
		now := time.Now()
		ly.bytes.Add(uint64(n))
		ly.lastAt.Store(now.UnixNano())
		// See forwarder.run: extension ids were negotiated with the publisher.
		pkt.Header.Extension = false
		pkt.Header.Extensions = pkt.Header.Extensions[:0]
		key := isKeyframeStart(l.codec.MimeType, pkt.Payload)
		if key {
			ly.keyframes.Add(1)
			// A keyframe answers the request on its way: the next
			// request (a viewer joining after it) goes out at once.
			ly.pliAt.Store(0)
		}
		if pkt.Marker {
			ly.frames.Add(1)
		}
		wantKey := false
		l.mu.Lock()
		if l.layers[ly.rid] != ly {
			l.mu.Unlock()
			continue // replaced by a rejoining publisher's layer
		}
		for v := range l.viewers {
			// A viewer starts on the first keyframe of its target or of
			// a layer below it, whichever comes first (the publisher may
			// answer sooner on a lower layer, or have paused the target),
			// and climbs to the target at the target's keyframe.
			if (v.current != ly.rid || !v.started) &&
				(v.target == ly.rid || !v.started && v.rec == nil && l.notAbove(ly, v.target)) {
				if !key {
					wantKey = wantKey || v.target == ly.rid
					continue
				}
				// The switch: the new layer's keyframe follows the old
				// layer's last packet in the viewer's one stream.
				l.switched(v, ly.rid, now)
				v.current, v.started, v.switchedAt = ly.rid, true, now
				v.switchInput()
			}
			if v.current != ly.rid || !v.started {
				continue
			}
			v.out.Header = pkt.Header
			v.out.Payload = pkt.Payload
			ok, want := v.munger.rewrite(&v.out.Header, !key, l.codec.ClockRate, now)
			wantKey = wantKey || want
			if want {
				v.n.held++
			}
			if ok {
				v.frameDone(ly.rid, pkt.Marker)
				if v.vp8 != nil {
					v.out.Payload = v.vp8.rewrite(pkt.Payload)
				}
				if v.rec != nil {
					l.record(v, ly)
				} else {
					_ = v.local.WriteRTP(&v.out)
				}
			}
		}
		l.mu.Unlock()
		l.packets.Add(1)
		if wantKey {
			l.requestKeyframe(ly)
		}
	}
}

// requestKeyframe sends a PLI for one layer unless one is on its way:
// requests are coalesced until the layer's next keyframe, which serves
// every viewer waiting (as mediasoup's key frame request manager does),
// and repeated after 500 ms without one (the PLI or the keyframe was
// lost, or the publisher skipped it: Chrome answers one request per
// 300 ms, with a keyframe on every layer). A viewer that joins after the
// keyframe came asks at once instead of waiting out the previous
// request's throttle.
func (l *layered) requestKeyframe(ly *layer) {
	now := time.Now().UnixNano()
	at := ly.pliAt.Load()
	if at != 0 && now-at < layerPLIEvery || !ly.pliAt.CompareAndSwap(at, now) {
		return
	}
	l.mu.Lock()
	pc := l.source
	l.mu.Unlock()
	if pc != nil {
		ly.plis.Add(1)
		_ = pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: ly.ssrc}})
	}
}

// viewerWantsKeyframe passes a viewer's PLI/FIR on to the layer it gets
// (or is switching to).
func (l *layered) viewerWantsKeyframe(v *layerViewer) {
	l.mu.Lock()
	v.n.asked++
	ly := l.layers[v.target]
	if ly == nil {
		ly = l.layers[v.current]
	}
	l.mu.Unlock()
	if ly != nil {
		l.requestKeyframe(ly)
	}
}

// choose looks every layerTick for viewers whose estimate fell below
// their layer, and every layerRateTicks measures the layers' bitrates and
// re-chooses every viewer's layer (climbs included).
func (l *layered) choose() {
	t := time.NewTicker(layerTick)
	defer t.Stop()
	for n := 1; ; n++ {
		select {
		case <-l.stop:
			return
		case now := <-t.C:
			full := n%layerRateTicks == 0
			var ask []*layer
			l.mu.Lock()
			if full {
				l.measure()
			}
			for v := range l.viewers {
				before := v.target
				l.retarget(v, now, full)
				if v.target != before && v.target != "" {
					ask = append(ask, l.layers[v.target])
				}
			}
			l.mu.Unlock()
			for _, ly := range ask {
				l.requestKeyframe(ly)
			}
		}
	}
}

// measure updates each layer's smoothed bitrate. Guarded by mu.
func (l *layered) measure() {
	every := (layerRateTicks * layerTick).Seconds()
	for _, ly := range l.layers {
		b := ly.bytes.Load()
		inst := float64(b-ly.seenBytes) * 8 / every
		ly.seenBytes = b
		if ly.rate == 0 {
			ly.rate = inst
		} else {
			ly.rate = 0.7*ly.rate + 0.3*inst
		}
	}
}

// active lists the layers sending now, lowest bitrate first. Guarded by mu.
func (l *layered) active(now time.Time) []*layer {
	var out []*layer
	for _, ly := range l.layers {
		if now.UnixNano()-ly.lastAt.Load() < int64(layerIdle) {
			out = append(out, ly)
		}
	}
	byRank := ranked(l.layers)
	slices.SortFunc(out, func(a, b *layer) int { return compareLayers(a, b, byRank) })
	return out
}

// ranked reports whether the layers' RIDs order them (q/h/f and the
// like): then they are ordered by RID, not by measured bitrate, which a
// stalling encoder scrambles (a paused top layer measured lowest, and a
// climb from it went to the bottom one). Guarded by mu.
func ranked(layers map[string]*layer) bool {
	seen := map[int]bool{}
	for rid := range layers {
		if seen[rank(rid)] {
			return false
		}
		seen[rank(rid)] = true
	}
	return true
}

// compareLayers orders a before b (lower quality first).
func compareLayers(a, b *layer, byRank bool) int {
	if byRank && rank(a.rid) != rank(b.rid) {
		return rank(a.rid) - rank(b.rid)
	}
	switch {
	case a.rate < b.rate:
		return -1
	case a.rate > b.rate:
		return 1
	}
	return rank(a.rid) - rank(b.rid)
}

// rank orders layers of equal measured bitrate by the RIDs browsers and
// OBS use, lowest quality first (a new stream's first half second).
func rank(rid string) int {
	switch rid {
	case "q", "l", "low", "0":
		return 0
	case "h", "m", "mid", "1":
		return 1
	}
	return 2
}

// retarget sets v.target from v's estimate. Guarded by mu.
//
// Down: as soon as the estimate falls well below the viewer's layer with
// loss on the link, or after loss or growing delay for layerDownTicks
// with the estimate below it: a queue at the viewer's bottleneck fills
// within a second or two and then drops packets, and every frame after a
// lost packet is undecodable until the new layer's keyframe. GCC lowers
// its estimate to 0.85 × what the viewer received, so a fall to under
// 0.75 × the layer's bitrate can mean the link delivered clearly less
// than was sent; but what GCC counts as received lags (a viewer that just
// started, a publisher whose encoder stalls and catches up), and on a
// loopback link with a starved CPU the estimate fell to 13–180 kbit/s
// with nothing lost: a fall alone moved viewers down and up again every
// second or two, each move a keyframe request, and Chrome answers each
// with a keyframe on every layer, which its encoder pays for in dropped
// frames (1–3 frames a second). So a fall counts only with loss. An
// estimate that is low only because it has not caught up (after a climb
// it rises ~8% a second from where it was) is not congestion, nor is a
// fall in the first second on a layer (GCC's first measurements after a
// start or a keyframe burst).
//
// Up (full ticks only): the estimate only rises as fast as what is sent
// shows the link can carry (Pion's GCC does not probe), so a viewer below
// the top layer whose link has been clean for layerUpHold tries the next
// layer up (the climb is the probe); a climb that soon fails blocks the
// next try twice as long.
func (l *layered) retarget(v *layerViewer, now time.Time, full bool) {
	layers := l.active(now)
	if len(layers) == 0 {
		return
	}
	if v.rec != nil {
		l.setTarget(v, layers[len(layers)-1].rid, now, 0, "record")
		return
	}
	est := viewerStartBWE
	if v.bwe != nil {
		est = v.bwe.GetTargetBitrate()
		if v.lastEst > 0 && est < v.lastEst*97/100 {
			v.fellAt = now
		}
		v.lastEst = est
	}
	// The highest layer the estimate carries (the lowest if none does).
	fit := 0
	for i, ly := range layers {
		if ly.rate <= float64(est) {
			fit = i
		}
	}
	cur := slices.IndexFunc(layers, func(ly *layer) bool { return ly.rid == v.target })
	if cur < 0 {
		// First choice, or the layer paused: now.
		l.setTarget(v, layers[fit].rid, now, est, "first")
		return
	}
	if on := slices.IndexFunc(layers, func(ly *layer) bool { return ly.rid == v.current }); v.started && on >= 0 &&
		cur > on && now.Sub(v.targetAt) > layerClimbWait {
		// A climb whose keyframe does not come (the publisher has
		// throttled that layer): stay, and try again only later; its
		// repeated keyframe requests would cost the publisher a
		// keyframe on every layer each second.
		l.setTarget(v, v.current, now, est, "no keyframe")
		v.backoff = min(max(2*v.backoff, layerBackoff), layerBackoffMax)
		v.upBlocked, v.cleanSince = now.Add(v.backoff), time.Time{}
		return
	}
	if fit < cur && congested(v) {
		v.congested++
	} else {
		v.congested = 0
	}
	fell := !v.fellAt.IsZero() && now.Sub(v.fellAt) < layerFellFor && v.fellAt.Sub(v.switchedAt) >= layerSettle &&
		float64(est) < layerFellBelow*layers[cur].rate && lossy(v)
	if fit < cur && (fell || v.congested >= layerDownTicks) {
		// The link cannot carry the layer: down now, up again only later.
		why := "congested"
		if fell {
			why = "fell"
		}
		l.setTarget(v, layers[fit].rid, now, est, why)
		v.cleanSince = time.Time{}
		if v.backoff == 0 || now.Sub(v.upAt) > layerUpStable {
			v.backoff = layerBackoff
		} else {
			v.backoff = min(2*v.backoff, layerBackoffMax)
		}
		v.upBlocked = now.Add(v.backoff)
		return
	}
	if !full || cur+1 == len(layers) {
		return
	}
	if congested(v) || now.Sub(v.fellAt) < layerFellFor {
		v.cleanSince = time.Time{}
		return
	}
	if v.cleanSince.IsZero() {
		v.cleanSince = now
	}
	if now.Before(v.upBlocked) {
		return
	}
	if layers[cur+1].rate*layerUpMargin <= float64(est) || now.Sub(v.cleanSince) >= layerUpHold {
		l.setTarget(v, layers[cur+1].rid, now, est, "up")
		v.upAt, v.cleanSince = now, time.Time{}
	}
}

// setTarget makes rid v's target (switched to at its next keyframe), for
// why (est: the estimate it was chosen by). Guarded by mu.
func (l *layered) setTarget(v *layerViewer, rid string, now time.Time, est int, why string) {
	if rid == v.target {
		return
	}
	if l.log != nil && v.rec == nil {
		l.log.Debug("rtc simulcast target", "stream", strings.TrimPrefix(l.streamID, "live-"),
			"from", v.target, "to", rid, "layer", v.current, "why", why, "estimate", est)
	}
	v.target, v.targetAt = rid, now
	v.n.retarget++
}

// switched notes v's switch to rid at its keyframe. Guarded by mu.
func (l *layered) switched(v *layerViewer, rid string, now time.Time) {
	if v.started {
		v.n.switches++
	} else {
		v.n.first = now
	}
	var waited time.Duration
	if !v.targetAt.IsZero() {
		waited = now.Sub(v.targetAt)
	}
	if rid == v.target {
		v.n.waited += waited
	}
	if l.log != nil && v.rec == nil {
		l.log.Debug("rtc simulcast switch", "stream", strings.TrimPrefix(l.streamID, "live-"),
			"from", v.current, "to", rid, "target", v.target, "target_for_ms", waited.Milliseconds())
	}
}

// lossy reports whether GCC sees loss above 2% on v's link now.
func lossy(v *layerViewer) bool {
	if v.bwe == nil {
		return false
	}
	loss, _ := v.bwe.GetStats()["averageLoss"].(float64)
	return loss > 0.02
}

// congested reports whether GCC sees loss above 2% or growing delay on
// v's link now.
func congested(v *layerViewer) bool {
	if v.bwe == nil {
		return false
	}
	st := v.bwe.GetStats()
	loss, _ := st["averageLoss"].(float64)
	usage, _ := st["usage"].(string)
	return loss > 0.02 || usage == "overuse"
}

// Layers reports, for tests and monitoring, the layer (RID) each viewer of
// a stream's simulcast video gets now.
func (s *Server) Layers(streamID string) []string {
	ls := s.simulcastOf(streamID)
	var out []string
	for _, l := range ls {
		l.mu.Lock()
		for v := range l.viewers {
			if v.rec == nil {
				out = append(out, v.current)
			}
		}
		l.mu.Unlock()
	}
	slices.Sort(out)
	return out
}

// readLayerRTCP drains a viewer's RTCP for a layered track and passes its
// keyframe requests on.
func readLayerRTCP(sender *webrtc.RTPSender, l *layered, v *layerViewer) {
	for {
		pkts, _, err := sender.ReadRTCP()
		if err != nil {
			return
		}
		for _, p := range pkts {
			switch p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				l.viewerWantsKeyframe(v)
			}
		}
	}
}

// addLayer feeds a simulcast layer (a track with a RID) of a publisher's
// connection pc into st. A new stream gets a layered track per simulcast
// receiver, counted as one of the announced tracks; a rejoining publisher
// feeds the stream's existing layered track. It reports false when the
// layer has nowhere to go here (a rejoin onto a stream whose video was not
// simulcast: the caller's plain rejoin path takes it).
func (s *Server) addLayer(st *stream, pc *webrtc.PeerConnection, remote *webrtc.TrackRemote,
	recv *webrtc.RTPReceiver, byRecv *sync.Map, rejoinLayered []*layered, rejoining bool) bool {
	if v, ok := byRecv.Load(recv); ok {
		l := v.(*layered)
		go l.run(l.attach(pc, remote))
		return true
	}
	if rejoining {
		var pick *layered
		for _, l := range rejoinLayered {
			taken := false
			byRecv.Range(func(_, v any) bool {
				taken = taken || v.(*layered) == l
				return !taken
			})
			if !taken {
				pick = l
				break
			}
		}
		if pick == nil {
			return false
		}
		v, _ := byRecv.LoadOrStore(recv, pick)
		l := v.(*layered)
		go l.run(l.attach(pc, remote))
		return true
	}
	l := newLayered(remote.Codec().RTPCodecCapability, "video-"+remote.ID(), "live-"+st.id, s.log)
	v, loaded := byRecv.LoadOrStore(recv, l)
	if loaded {
		l.close()
		l = v.(*layered)
	}
	go l.run(l.attach(pc, remote))
	if !loaded {
		s.layeredArrived(st, l)
	}
	return true
}

// drainLayerRTCP reads one layer's RTCP so the interceptors see it and
// the buffer never fills, and hands its sender reports to the layered
// track it feeds (byRecv: see addLayer), for the recording.
func drainLayerRTCP(r *webrtc.RTPReceiver, rid string, byRecv *sync.Map) {
	for {
		pkts, _, err := r.ReadSimulcastRTCP(rid)
		if err != nil {
			return
		}
		for _, p := range pkts {
			if sr, ok := p.(*rtcp.SenderReport); ok {
				if l, ok := byRecv.Load(r); ok {
					l.(*layered).senderReport(sr)
				}
			}
		}
	}
}

// simulcastOf is a copy of a stream's simulcast video tracks (none when
// the stream is gone), so callers read them without the server's lock.
func (s *Server) simulcastOf(streamID string) []*layered {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.streams[streamID]; st != nil {
		return append([]*layered(nil), st.simulcast...)
	}
	return nil
}
