package rtc

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// Layer choice (the way LiveKit's forwarder latches onto a target layer at
// its keyframe): a viewer drops to a layer that fits its estimate at once
// (congestion hurts now), and climbs only when the next layer fits with a
// margin for a while, so an estimate wobbling around a layer's bitrate
// does not make it switch back and forth.
const (
	layerTick       = 500 * time.Millisecond
	layerIdle       = time.Second     // a layer without packets this long is paused
	layerUpMargin   = 1.25            // estimate ≥ 1.25 × the higher layer's bitrate...
	layerUpHold     = 2 * time.Second // ...for this long
	layerPLIEvery   = int64(500 * time.Millisecond)
	layerBackoff    = 5 * time.Second  // no climb this long after a fall...
	layerBackoffMax = time.Minute      // ...doubling while climbs keep failing
	layerUpStable   = 20 * time.Second // a climb that held this long succeeded
	layerDownTicks  = 2                // congestion seen this many ticks in a row moves down (one may be a hiccup)
	viewerStartBWE  = 2_500_000        // bits/s: a new viewer starts on the layer this fits
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
	lastPLI   atomic.Int64
}

// layerViewer is one viewer's outgoing track of a layered track.
type layerViewer struct {
	local   *webrtc.TrackLocalStaticRTP
	bwe     cc.BandwidthEstimator // nil: no estimate, the highest layer
	current string                // the layer forwarded ("" none yet)
	target  string                // the layer switched to at its next keyframe
	started bool                  // current is set
	// cleanSince: since when the link shows neither loss nor growing
	// delay; congested: for how many ticks in a row it has shown them
	cleanSince time.Time
	congested  int
	// After the estimate falls, climbing waits upBlocked (longer each time
	// a climb soon fell back): without probing, a climb is the probe, and
	// a link that cannot carry the layer would otherwise see it every few
	// seconds.
	upBlocked time.Time
	backoff   time.Duration
	upAt      time.Time
	munger    munger
	out       rtp.Packet
}

func newLayered(codec webrtc.RTPCodecCapability, trackID, streamID string) *layered {
	l := &layered{codec: codec, trackID: trackID, streamID: streamID,
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
			v.munger.switchInput()
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
	return &layerViewer{local: local, bwe: bwe}, nil
}

// join starts forwarding to v once its connection is up, so that the
// first packet it gets is its layer's next keyframe (the layer's packets
// ask for one until it comes).
func (l *layered) join(v *layerViewer) {
	l.mu.Lock()
	l.viewers[v] = struct{}{}
	l.retarget(v, time.Now())
	l.mu.Unlock()
}

func (l *layered) removeViewer(v *layerViewer) {
	l.mu.Lock()
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
		keyChecked, key := false, false
		wantKey := false
		l.mu.Lock()
		if l.layers[ly.rid] != ly {
			l.mu.Unlock()
			continue // replaced by a rejoining publisher's layer
		}
		for v := range l.viewers {
			if v.target == ly.rid && (v.current != ly.rid || !v.started) {
				if !keyChecked {
					key, keyChecked = isKeyframeStart(l.codec.MimeType, pkt.Payload), true
				}
				if !key {
					wantKey = true
					continue
				}
				// The switch: the new layer's keyframe follows the old
				// layer's last packet in the viewer's one stream.
				v.current, v.started = ly.rid, true
				v.munger.switchInput()
			}
			if v.current != ly.rid || !v.started {
				continue
			}
			v.out.Header = pkt.Header
			v.out.Payload = pkt.Payload
			notKey := false
			if v.munger.pending {
				if !keyChecked {
					key, keyChecked = isKeyframeStart(l.codec.MimeType, pkt.Payload), true
				}
				notKey = !key
			}
			ok, want := v.munger.rewrite(&v.out.Header, notKey, l.codec.ClockRate, now)
			wantKey = wantKey || want
			if ok {
				_ = v.local.WriteRTP(&v.out)
			}
		}
		l.mu.Unlock()
		l.packets.Add(1)
		if wantKey {
			l.requestKeyframe(ly)
		}
	}
}

// requestKeyframe sends a PLI for one layer, at most every 500 ms (the
// layer's next packets ask again while a viewer still waits).
func (l *layered) requestKeyframe(ly *layer) {
	now := time.Now().UnixNano()
	last := ly.lastPLI.Load()
	if now-last < layerPLIEvery || !ly.lastPLI.CompareAndSwap(last, now) {
		return
	}
	l.mu.Lock()
	pc := l.source
	l.mu.Unlock()
	if pc != nil {
		_ = pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: ly.ssrc}})
	}
}

// viewerWantsKeyframe passes a viewer's PLI/FIR on to the layer it gets
// (or is switching to).
func (l *layered) viewerWantsKeyframe(v *layerViewer) {
	l.mu.Lock()
	ly := l.layers[v.target]
	if ly == nil {
		ly = l.layers[v.current]
	}
	l.mu.Unlock()
	if ly != nil {
		l.requestKeyframe(ly)
	}
}

// choose measures the layers' bitrates and re-chooses every viewer's
// layer every layerTick.
func (l *layered) choose() {
	t := time.NewTicker(layerTick)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case now := <-t.C:
			var ask []*layer
			l.mu.Lock()
			for _, ly := range l.layers {
				b := ly.bytes.Load()
				inst := float64(b-ly.seenBytes) * 8 / layerTick.Seconds()
				ly.seenBytes = b
				if ly.rate == 0 {
					ly.rate = inst
				} else {
					ly.rate = 0.7*ly.rate + 0.3*inst
				}
			}
			for v := range l.viewers {
				before := v.target
				l.retarget(v, now)
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

// active lists the layers sending now, lowest bitrate first. Guarded by mu.
func (l *layered) active(now time.Time) []*layer {
	var out []*layer
	for _, ly := range l.layers {
		if now.UnixNano()-ly.lastAt.Load() < int64(layerIdle) {
			out = append(out, ly)
		}
	}
	slices.SortFunc(out, func(a, b *layer) int {
		switch {
		case a.rate < b.rate:
			return -1
		case a.rate > b.rate:
			return 1
		}
		return rank(a.rid) - rank(b.rid)
	})
	return out
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
// The estimate only rises as fast as what is sent shows the link can
// carry (Pion's GCC does not probe), so a viewer moved down would stay
// down for minutes. Two rules make up for it: a viewer moves down only on
// evidence of congestion (loss or growing delay, two ticks in a row) with
// the estimate below its layer, and a viewer below the top layer whose link has been clean
// for layerUpHold tries the next layer up (the climb is the probe); a
// climb that soon fails blocks the next try twice as long.
func (l *layered) retarget(v *layerViewer, now time.Time) {
	layers := l.active(now)
	if len(layers) == 0 {
		return
	}
	est, congested := float64(viewerStartBWE), false
	if v.bwe != nil {
		est = float64(v.bwe.GetTargetBitrate())
		st := v.bwe.GetStats()
		loss, _ := st["averageLoss"].(float64)
		usage, _ := st["usage"].(string)
		congested = loss > 0.02 || usage == "overuse"
	}
	// The highest layer the estimate carries (the lowest if none does).
	fit := 0
	for i, ly := range layers {
		if ly.rate <= est {
			fit = i
		}
	}
	if congested {
		v.cleanSince = time.Time{}
		v.congested++
	} else {
		v.congested = 0
		if v.cleanSince.IsZero() {
			v.cleanSince = now
		}
	}
	cur := slices.IndexFunc(layers, func(ly *layer) bool { return ly.rid == v.target })
	switch {
	case cur < 0:
		// First choice, or the layer paused: now.
		v.target = layers[fit].rid
	case fit < cur && v.congested >= layerDownTicks:
		// The link cannot carry the layer: down now, up again only later.
		v.target = layers[fit].rid
		if v.backoff == 0 || now.Sub(v.upAt) > layerUpStable {
			v.backoff = layerBackoff
		} else {
			v.backoff = min(2*v.backoff, layerBackoffMax)
		}
		v.upBlocked = now.Add(v.backoff)
	case cur+1 == len(layers) || now.Before(v.upBlocked) || congested:
	case layers[cur+1].rate*layerUpMargin <= est || now.Sub(v.cleanSince) >= layerUpHold:
		v.target, v.upAt, v.cleanSince = layers[cur+1].rid, now, time.Time{}
	}
}

// Layers reports, for tests and monitoring, the layer (RID) each viewer of
// a stream's simulcast video gets now.
func (s *Server) Layers(streamID string) []string {
	s.mu.Lock()
	st := s.streams[streamID]
	var ls []*layered
	if st != nil {
		ls = append(ls, st.simulcast...)
	}
	s.mu.Unlock()
	var out []string
	for _, l := range ls {
		l.mu.Lock()
		for v := range l.viewers {
			out = append(out, v.current)
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
	l := newLayered(remote.Codec().RTPCodecCapability, "video-"+remote.ID(), "live-"+st.id)
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

// drainLayerRTCP reads one layer's RTCP (its sender reports) so the
// interceptors see it and the buffer never fills.
func drainLayerRTCP(r *webrtc.RTPReceiver, rid string) {
	buf := make([]byte, 1500)
	for {
		if _, _, err := r.ReadSimulcast(buf, rid); err != nil {
			return
		}
	}
}
