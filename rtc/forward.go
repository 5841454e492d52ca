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
	local *fanoutTrack
	kind  webrtc.RTPCodecType
	codec webrtc.RTPCodecCapability
	// history answers the subscribers' NACKs (video only: audio has none);
	// batch queues the fan-out's writes for sendmmsg (nil: off).
	history *retransmitBuffer
	batch   *sendBatch

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
	resent      atomic.Uint64 // packets sent again to a subscriber that lost them
	// resendsLimited counts the packets asked for again that were not
	// resent (resendLimit).
	resendsLimited atomic.Uint64
	rec            atomic.Pointer[recordSink] // the stream's recording, if any
}

func newForwarder(codec webrtc.RTPCodecCapability, kind webrtc.RTPCodecType, trackID, streamID string) (*forwarder, error) {
	local, err := newFanoutTrack(codec, trackID, streamID)
	if err != nil {
		return nil, err
	}
	f := &forwarder{local: local, kind: kind, codec: codec}
	if strings.EqualFold(codec.MimeType, webrtc.MimeTypeVP8) {
		f.vp8 = &vp8Munger{}
	}
	if kind == webrtc.RTPCodecTypeVideo {
		// Viewers negotiate NACK for video whatever the publisher did.
		f.history = &retransmitBuffer{}
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

// fanoutQueue is how many packets a forwarder's reading may be ahead of
// its sending (~0.7 s of a 1.5 Mbit/s stream); beyond, reading waits.
const fanoutQueue = 128

// fanoutItem is a packet read and the buffer it was read into (its
// payload points into it).
type fanoutItem struct {
	pkt rtp.Packet
	buf [1500]byte
}

// run forwards until the publisher's track ends (its peer connection
// closed). It reads each packet as it arrives and hands it to a second
// goroutine (fanOut) that sends it to every subscriber: transport-wide
// CC feedback stamps a packet's arrival when it is read, and a read that
// waited for the fan-out to many viewers would look like a queue on the
// publisher's path, which its estimator answers by sending less. Buffers
// go round between the two: no allocation per packet.
func (f *forwarder) run(remote *webrtc.TrackRemote) {
	queue := make(chan *fanoutItem, fanoutQueue)
	free := make(chan *fanoutItem, fanoutQueue+2)
	done := make(chan struct{})
	go f.fanOut(queue, free, done)
	defer func() {
		close(queue)
		<-done
	}()
	recycle := func(it *fanoutItem) {
		select {
		case free <- it:
		default:
		}
	}
	for {
		var it *fanoutItem
		select {
		case it = <-free:
		default:
			it = &fanoutItem{}
		}
		n, _, err := remote.Read(it.buf[:])
		if err != nil {
			return
		}
		pkt := &it.pkt
		if err := pkt.Unmarshal(it.buf[:n]); err != nil {
			recycle(it)
			continue
		}
		f.mu.Lock()
		if f.remote != remote {
			f.mu.Unlock()
			recycle(it)
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
			recycle(it)
			if wantKeyframe {
				f.requestKeyframe()
			}
			continue
		}
		// Header extension ids were negotiated with the publisher, not
		// with each subscriber: drop them rather than send wrong ones.
		pkt.Header.Extension = false
		pkt.Header.Extensions = pkt.Header.Extensions[:0]
		queue <- it
	}
}

// fanOut sends each packet of queue to every subscriber (and keeps it
// for resending and the recording), until queue is closed.
func (f *forwarder) fanOut(queue <-chan *fanoutItem, free chan<- *fanoutItem, done chan<- struct{}) {
	defer close(done)
	for it := range queue {
		pkt := &it.pkt
		if f.history != nil {
			f.history.push(pkt)
		}
		f.batch.hold()
		f.local.write(pkt)
		f.batch.release()
		f.packets.Add(1)
		if sink := f.rec.Load(); sink != nil {
			sink.push(pkt)
		}
		select {
		case free <- it:
		default:
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
// the interceptors' reports) and passes keyframe requests on. With resend
// (the subscriber's connection has no NACK responder of its own), a NACK
// is answered from the forwarder's history.
func readSenderRTCP(sender *webrtc.RTPSender, f *forwarder, resend bool) {
	for {
		pkts, _, err := sender.ReadRTCP()
		if err != nil {
			return
		}
		for _, p := range pkts {
			switch p := p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				f.requestKeyframe()
			case *rtcp.TransportLayerNack:
				if resend {
					f.resend(p)
				}
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
