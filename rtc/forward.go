package rtc

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// forwarder copies the RTP of one publisher track into one local track
// that every subscriber's peer connection has added (an SFU: no decoding).
// TrackLocalStaticRTP sets each subscriber's SSRC and payload type; the
// forwarder rewrites sequence numbers and timestamps so that what the
// subscribers receive stays one continuous stream when its input changes
// (a publisher reloads, moves to another device, or reconnects).
type forwarder struct {
	local *webrtc.TrackLocalStaticRTP
	kind  webrtc.RTPCodecType
	codec webrtc.RTPCodecCapability

	mu     sync.Mutex
	source *webrtc.PeerConnection // the publisher, for keyframe requests
	pli    func()                 // asks for a keyframe instead (an input from another SFU)
	remote *webrtc.TrackRemote    // the input; packets of any other track are dropped
	ssrc   uint32
	munger munger
	vp8    *vp8Munger // VP8 only: picture ids continue across inputs too

	lastPLI     atomic.Int64 // unix nanos of the last keyframe request
	deferredPLI atomic.Bool  // a request waits for the end of the 500 ms
	packets     atomic.Uint64
	rec         atomic.Pointer[recordSink] // the stream's recording, if any
}

func newForwarder(codec webrtc.RTPCodecCapability, kind webrtc.RTPCodecType, trackID, streamID string) (*forwarder, error) {
	local, err := webrtc.NewTrackLocalStaticRTP(codec, trackID, streamID)
	if err != nil {
		return nil, err
	}
	f := &forwarder{local: local, kind: kind, codec: codec}
	if strings.EqualFold(codec.MimeType, webrtc.MimeTypeVP8) {
		f.vp8 = &vp8Munger{}
	}
	return f, nil
}

// attach makes remote (a track of source) the forwarder's input. From a
// second input on, video waits for a keyframe of the new input (asked for
// at once) so subscribers never get frames they cannot decode.
func (f *forwarder) attach(source *webrtc.PeerConnection, remote *webrtc.TrackRemote) {
	f.mu.Lock()
	f.source, f.remote, f.ssrc = source, remote, uint32(remote.SSRC())
	f.munger.switchInput()
	if f.vp8 != nil {
		f.vp8.switchInput()
	}
	f.mu.Unlock()
	f.lastPLI.Store(0)
	f.requestKeyframe()
}

// detach forgets source if it is still the input.
func (f *forwarder) detach(source *webrtc.PeerConnection) {
	if source == nil {
		return
	}
	f.mu.Lock()
	if f.source == source {
		f.source, f.remote, f.ssrc = nil, nil, 0
	}
	f.mu.Unlock()
}

// run forwards until the publisher's track ends (its peer connection
// closed). The packet and buffer are reused: no allocation per packet
// here; pion copies into a pooled packet per write.
func (f *forwarder) run(remote *webrtc.TrackRemote) {
	buf := make([]byte, 1500)
	var pkt rtp.Packet
	for {
		n, _, err := remote.Read(buf)
		if err != nil {
			return
		}
		if err := pkt.Unmarshal(buf[:n]); err != nil {
			continue
		}
		f.mu.Lock()
		if f.remote != remote {
			f.mu.Unlock()
			continue // replaced by another input
		}
		// Only a new input's first packets are inspected (cheap per packet).
		notKey := f.munger.pending && f.kind == webrtc.RTPCodecTypeVideo && !isKeyframeStart(f.codec.MimeType, pkt.Payload)
		ok, wantKeyframe := f.munger.rewrite(&pkt.Header, notKey, f.codec.ClockRate, time.Now())
		if ok && f.vp8 != nil {
			// A new input numbers its pictures from its own start; Chrome
			// would wait for the "missing" ones (see vp8Munger). The
			// munger's copy is shared by the inputs' goroutines: back
			// into this goroutine's own buffer while the lock is held.
			if out := f.vp8.rewrite(pkt.Payload); len(out) > 0 && &out[0] != &pkt.Payload[0] {
				copy(pkt.Payload, out)
			}
		}
		f.mu.Unlock()
		if !ok {
			if wantKeyframe {
				f.requestKeyframe()
			}
			continue
		}
		// Header extension ids were negotiated with the publisher, not
		// with each subscriber: drop them rather than send wrong ones.
		pkt.Header.Extension = false
		pkt.Header.Extensions = pkt.Header.Extensions[:0]
		// A failing subscriber must not stop the others: write errors
		// (a subscriber closing) are ignored; its own cleanup removes it.
		_ = f.local.WriteRTP(&pkt)
		f.packets.Add(1)
		if sink := f.rec.Load(); sink != nil {
			sink.push(&pkt)
		}
	}
}

// requestKeyframe asks the publisher for a keyframe (a new subscriber, a
// subscriber's own PLI/FIR, a new input), at most every 500 ms; a request
// within that time is sent at its end rather than dropped.
func (f *forwarder) requestKeyframe() {
	if f.kind != webrtc.RTPCodecTypeVideo {
		return
	}
	const every = int64(500 * time.Millisecond)
	now := time.Now().UnixNano()
	last := f.lastPLI.Load()
	if wait := last + every - now; wait > 0 {
		if f.deferredPLI.CompareAndSwap(false, true) {
			time.AfterFunc(time.Duration(wait), func() {
				f.deferredPLI.Store(false)
				f.requestKeyframe()
			})
		}
		return
	}
	if !f.lastPLI.CompareAndSwap(last, now) {
		return
	}
	f.mu.Lock()
	pc, ssrc, pli := f.source, f.ssrc, f.pli
	f.mu.Unlock()
	if pli != nil {
		pli()
		return
	}
	if pc != nil {
		_ = pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: ssrc}})
	}
}

// readSenderRTCP drains a subscriber's RTCP for one track (which drives
// the NACK responder and reports) and passes keyframe requests on.
func readSenderRTCP(sender *webrtc.RTPSender, f *forwarder) {
	for {
		pkts, _, err := sender.ReadRTCP()
		if err != nil {
			return
		}
		for _, p := range pkts {
			switch p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				f.requestKeyframe()
			}
		}
	}
}

// drainReceiverRTCP reads a publisher's RTCP (sender reports) so the
// interceptors see it and the buffer never fills.
func drainReceiverRTCP(r *webrtc.RTPReceiver) {
	buf := make([]byte, 1500)
	for {
		if _, _, err := r.Read(buf); err != nil {
			return
		}
	}
}

// drainTrack reads a track nobody forwards, so its buffer never fills.
func drainTrack(remote *webrtc.TrackRemote) {
	buf := make([]byte, 1500)
	for {
		if _, _, err := remote.Read(buf); err != nil {
			return
		}
	}
}

// sendREMB tells a publisher the most it should send for one video track
// (Config.MaxPublishBitrate), once a second while its connection lasts.
// Transport-wide CC feedback drives the publisher's estimate; REMB caps it.
func (s *Server) sendREMB(ss *session, pc *webrtc.PeerConnection, ssrc webrtc.SSRC) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		remb := &rtcp.ReceiverEstimatedMaximumBitrate{Bitrate: float32(s.cfg.MaxPublishBitrate), SSRCs: []uint32{uint32(ssrc)}}
		if err := pc.WriteRTCP([]rtcp.Packet{remb}); err != nil {
			return
		}
		select {
		case <-ss.done:
			return
		case <-t.C:
		}
	}
}
