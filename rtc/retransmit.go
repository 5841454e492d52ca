package rtc

import (
	"sync"

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
}

type retransmitSlot struct {
	ok      bool
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
}

// get copies the packet numbered seq into h and buf; false when it is no
// longer (or never was) kept.
func (b *retransmitBuffer) get(seq uint16, h *rtp.Header, buf []byte) ([]byte, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.started || b.highest-seq >= retransmitSize {
		return nil, false
	}
	s := &b.slots[seq%retransmitSize]
	if !s.ok || s.header.SequenceNumber != seq {
		return nil, false
	}
	*h = s.header
	h.CSRC = append([]uint32(nil), s.header.CSRC...)
	return append(buf[:0], s.payload...), true
}

// resend answers a subscriber's NACK: the packets it lost that are still
// kept are sent again, to it alone, as they were first sent (the same
// sequence numbers: no RTX stream is negotiated). Returns how many.
func (f *forwarder) resend(nack *rtcp.TransportLayerNack) int {
	if f.history == nil {
		return 0
	}
	var h rtp.Header
	buf := make([]byte, 0, 1500)
	sent := 0
nacks:
	for _, pair := range nack.Nacks {
		for _, seq := range pair.PacketList() {
			payload, ok := f.history.get(seq, &h, buf)
			if !ok {
				continue
			}
			if !f.local.writeTo(nack.MediaSSRC, &h, payload) {
				break nacks // no longer subscribed
			}
			sent++
		}
	}
	f.resent.Add(uint64(sent))
	return sent
}
