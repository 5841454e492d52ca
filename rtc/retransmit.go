package rtc

import (
	"sync"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// retransmitSize is how many of its latest packets a forwarder keeps for
// resending: ~2.8 s of a 1.5 Mbit/s stream (NACKs come within a round
// trip), 1 MB at most per forwarded video track.
const retransmitSize = 512

// retransmitBuffer is a forwarder's history of the packets it sent, shared
// by its subscribers: they all get the same packets (only SSRC and payload
// type differ, and those are set per subscriber on the way out), so a
// subscriber's NACK is answered from it, to that subscriber alone. pion's
// NACK responder keeps a copy of every packet per subscriber instead;
// LiveKit and mediasoup keep one buffer per published track, as here.
type retransmitBuffer struct {
	mu      sync.Mutex
	slots   [retransmitSize]retransmitSlot
	started bool
	highest uint16 // the newest sequence number kept
	pushed  uint64 // packets kept so far: the next one's id
}

type retransmitSlot struct {
	ok      bool
	id      uint64     // which packet this is (sequence numbers wrap)
	header  rtp.Header // without extensions
	payload []byte     // reused for the slot's next packet
}

// push keeps a copy of pkt, replacing the one retransmitSize numbers older.
func (b *retransmitBuffer) push(pkt *rtp.Packet) {
	seq := pkt.SequenceNumber
	b.mu.Lock()
	defer b.mu.Unlock()
	switch ahead := seq - b.highest; {
	case !b.started:
		b.started, b.highest = true, seq
	case ahead == 0:
	case ahead < 0x8000: // newer: forget the numbers skipped (never sent)
		if ahead > retransmitSize {
			ahead = retransmitSize
		}
		for s := seq - ahead + 1; s != seq; s++ {
			b.slots[s%retransmitSize].ok = false
		}
		b.highest = seq
	case b.highest-seq >= retransmitSize:
		return // older than anything kept
	}
	s := &b.slots[seq%retransmitSize]
	csrc := s.header.CSRC[:0]
	s.header = pkt.Header
	s.header.CSRC = append(csrc, pkt.CSRC...)
	s.header.Extension, s.header.Extensions = false, nil
	if pkt.PaddingSize != 0 && s.header.PaddingSize == 0 {
		s.header.PaddingSize = pkt.PaddingSize
	}
	s.payload = append(s.payload[:0], pkt.Payload...)
	s.ok = true
	b.pushed++
	s.id = b.pushed
}

// get copies the packet numbered seq into h and buf, and gives its id;
// false when it is no longer (or never was) kept.
func (b *retransmitBuffer) get(seq uint16, h *rtp.Header, buf []byte) ([]byte, uint64, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.started || b.highest-seq >= retransmitSize {
		return nil, 0, false
	}
	s := &b.slots[seq%retransmitSize]
	if !s.ok || s.header.SequenceNumber != seq {
		return nil, 0, false
	}
	*h = s.header
	h.CSRC = append([]uint32(nil), s.header.CSRC...)
	return append(buf[:0], s.payload...), s.id, true
}

// A packet is resent to one subscriber at most resendMax times, and not
// again within resendGap of its last resend: a receiver asks again while
// a resend is still on its way (Pion's NACK generator every 100 ms,
// browsers after a round trip), and one that asks for a packet again and
// again (a broken or hostile client) must not make the server send it
// again and again. A resend that was itself lost is asked for again
// later than that, and sent.
const (
	resendGap = 100 * time.Millisecond
	resendMax = 3
)

// resendLimit is what was resent to one subscriber of a video track, by
// the history's slots.
type resendLimit struct {
	mu    sync.Mutex
	slots [retransmitSize]resendSlot
}

type resendSlot struct {
	id    uint64 // the retransmitBuffer's packet id
	times int
	last  time.Time
}

// allow says whether the packet id may be resent now, and counts it if so.
func (l *resendLimit) allow(id uint64, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := &l.slots[id%retransmitSize]
	if s.id != id {
		*s = resendSlot{id: id, times: 1, last: now}
		return true
	}
	if s.times >= resendMax || now.Sub(s.last) < resendGap {
		return false
	}
	s.times++
	s.last = now
	return true
}

// resend answers a subscriber's NACK: the packets it lost that are still
// kept are sent again, to it alone, as they were first sent (the same
// sequence numbers: no RTX stream is negotiated), within the subscriber's
// resendLimit. Returns how many.
func (f *forwarder) resend(nack *rtcp.TransportLayerNack) int {
	if f.history == nil {
		return 0
	}
	sub := f.local.subscriber(nack.MediaSSRC)
	if sub == nil {
		return 0 // no longer subscribed
	}
	limit := sub.resendLimit()
	var h rtp.Header
	buf := make([]byte, 0, 1500)
	now := time.Now()
	sent, limited := 0, 0
	for _, pair := range nack.Nacks {
		for _, seq := range pair.PacketList() {
			payload, id, ok := f.history.get(seq, &h, buf)
			if !ok {
				continue
			}
			if !limit.allow(id, now) {
				limited++
				continue
			}
			sub.writeRTP(&h, payload)
			sent++
		}
	}
	f.resent.Add(uint64(sent))
	f.resendsLimited.Add(uint64(limited))
	return sent
}
