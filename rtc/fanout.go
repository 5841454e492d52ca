package rtc

import (
	"slices"
	"sync"
	"sync/atomic"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// fanoutTrack is the local track a forwarder's subscribers share. pion's
// TrackLocalStaticRTP negotiates each subscriber's codec (Bind); the
// fanoutTrack also keeps each subscriber's writer, so the forwarder writes
// a packet to all of them without a copy per write, and resends a lost
// packet to the one subscriber that asked for it (retransmit.go).
type fanoutTrack struct {
	*webrtc.TrackLocalStaticRTP
	mu   sync.Mutex
	subs atomic.Pointer[[]*subscriber] // replaced on change: writers read it without the lock
}

// subscriber is one peer connection's binding of a fanoutTrack.
type subscriber struct {
	id   string
	ssrc uint32
	pt   uint8
	w    webrtc.TrackLocalWriter
	// resends limits what is resent to it; made at its first NACK (most
	// viewers never lose a packet).
	resends atomic.Pointer[resendLimit]
}

func newFanoutTrack(codec webrtc.RTPCodecCapability, id, streamID string) (*fanoutTrack, error) {
	local, err := webrtc.NewTrackLocalStaticRTP(codec, id, streamID)
	if err != nil {
		return nil, err
	}
	return &fanoutTrack{TrackLocalStaticRTP: local}, nil
}

// Bind is called by a subscriber's sender once negotiated.
func (t *fanoutTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	codec, err := t.TrackLocalStaticRTP.Bind(ctx)
	if err != nil {
		return codec, err
	}
	sub := &subscriber{id: ctx.ID(), ssrc: uint32(ctx.SSRC()), pt: uint8(codec.PayloadType), w: ctx.WriteStream()}
	t.mu.Lock()
	defer t.mu.Unlock()
	subs := append(slices.Clip(t.subscribers()), sub)
	t.subs.Store(&subs)
	return codec, nil
}

// Unbind is called when a subscriber's sender stops.
func (t *fanoutTrack) Unbind(ctx webrtc.TrackLocalContext) error {
	err := t.TrackLocalStaticRTP.Unbind(ctx)
	t.mu.Lock()
	defer t.mu.Unlock()
	subs := slices.DeleteFunc(slices.Clone(t.subscribers()), func(s *subscriber) bool { return s.id == ctx.ID() })
	t.subs.Store(&subs)
	return err
}

func (t *fanoutTrack) subscribers() []*subscriber {
	if p := t.subs.Load(); p != nil {
		return *p
	}
	return nil
}

// write sends pkt to every subscriber, its header set to each one's SSRC
// and payload type in turn (and given back as it was). Header extensions
// are dropped: their ids were negotiated with the publisher.
func (t *fanoutTrack) write(pkt *rtp.Packet) {
	ssrc, pt := pkt.SSRC, pkt.PayloadType
	if pkt.PaddingSize != 0 && pkt.Header.PaddingSize == 0 {
		pkt.Header.PaddingSize = pkt.PaddingSize
	}
	ext := pkt.Header.Extensions[:0]
	for _, s := range t.subscribers() {
		pkt.SSRC, pkt.PayloadType = s.ssrc, s.pt
		// An interceptor may add its own extension for its subscriber
		// (a simulcast viewer's transport-wide sequence number).
		pkt.Header.Extension, pkt.Header.Extensions = false, ext
		// A failing subscriber must not stop the others: write errors
		// (a subscriber closing) are ignored; its own cleanup removes it.
		_, _ = s.w.WriteRTP(&pkt.Header, pkt.Payload)
	}
	pkt.SSRC, pkt.PayloadType = ssrc, pt
	pkt.Header.Extension, pkt.Header.Extensions = false, ext
}

// subscriber is the subscriber whose SSRC is ssrc, or nil.
func (t *fanoutTrack) subscriber(ssrc uint32) *subscriber {
	for _, s := range t.subscribers() {
		if s.ssrc == ssrc {
			return s
		}
	}
	return nil
}

// resendLimit is the subscriber's resendLimit, made at the first call.
func (s *subscriber) resendLimit() *resendLimit {
	if l := s.resends.Load(); l != nil {
		return l
	}
	s.resends.CompareAndSwap(nil, &resendLimit{})
	return s.resends.Load()
}

// writeRTP sends a packet to this subscriber only.
func (s *subscriber) writeRTP(h *rtp.Header, payload []byte) {
	h.SSRC, h.PayloadType = s.ssrc, s.pt
	_, _ = s.w.WriteRTP(h, payload)
}
