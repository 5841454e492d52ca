package rtc

import (
	"time"

	"github.com/pion/rtp"
)

// munger maps the sequence numbers and timestamps of a forwarder's inputs
// onto one continuous output, the way LiveKit's RTPMunger does: each input
// gets a fixed offset, chosen at its first forwarded packet so that it
// follows the last packet sent (sequence +1, timestamp advanced by the
// wall time that passed). A receiver therefore sees one stream with no
// jump, instead of dropping the new input's packets as far out of order.
// Guarded by forwarder.mu.
type munger struct {
	started bool // a packet was forwarded
	pending bool // a new input's first packet is awaited
	seqOff  uint16
	tsOff   uint32
	base    uint16    // the current input's first output sequence number
	lastSeq uint16    // the highest sequence number sent
	lastTS  uint32    // and its timestamp
	lastAt  time.Time // and when it was sent
}

// switchInput prepares for a new input (nothing to do before the first).
func (m *munger) switchInput() {
	if m.started {
		m.pending = true
	}
}

// rewrite maps h in place. While a new input is pending, a video packet
// that does not start a keyframe (notKeyframe) is dropped and a keyframe
// wanted: subscribers could not decode it.
func (m *munger) rewrite(h *rtp.Header, notKeyframe bool, clockRate uint32, now time.Time) (ok, wantKeyframe bool) {
	if m.pending {
		if notKeyframe {
			return false, true
		}
		step := uint32(now.Sub(m.lastAt).Seconds() * float64(clockRate))
		if step == 0 {
			step = 1
		}
		m.seqOff = m.lastSeq + 1 - h.SequenceNumber
		m.tsOff = m.lastTS + step - h.Timestamp
		m.base = m.lastSeq + 1
		m.pending = false
	}
	h.SequenceNumber += m.seqOff
	h.Timestamp += m.tsOff
	if m.started && int16(h.SequenceNumber-m.base) < 0 {
		// A late packet of the new input from before its first forwarded
		// one: its number would collide with the previous input's.
		return false, false
	}
	if !m.started || int16(h.SequenceNumber-m.lastSeq) > 0 {
		m.lastSeq, m.lastTS, m.lastAt = h.SequenceNumber, h.Timestamp, now
	}
	if !m.started {
		m.started, m.base = true, h.SequenceNumber
	}
	return true, false
}
