package rtc

import (
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// senderReportInterval is how often a viewer gets a sender report per
// track (pion's sender interceptor sends one a second too).
const senderReportInterval = time.Second

// Sender reports let a browser play a stream's audio and video in sync:
// each maps the track's RTP clock to wall-clock time. A viewer's
// connection has no sender interceptor (it would lock, read the clock and
// count on every write, for every viewer); the fan-out keeps one count and
// one RTP/wall-clock mapping per track instead, and one timer per track
// writes every viewer's report from them.

// reportState is what a fanoutTrack's sender reports are made of.
type reportState struct {
	packets, octets uint64 // written to each subscriber since the track began
	rtpTime         uint32 // the last frame's (rewritten) RTP timestamp...
	at              time.Time
	sn              uint16 // ...and the newest sequence number
	timer           *time.Timer
	// writers are the RTCP writers of senders added but not bound yet,
	// by SSRC (Bind moves each to its subscriber).
	writers map[uint32]func([]rtcp.Packet) error
}

// reportTo makes the fan-out write sender's reports (through pc), for a
// connection without a sender interceptor. Call it before negotiating.
func (t *fanoutTrack) reportTo(pc *webrtc.PeerConnection, sender *webrtc.RTPSender) {
	enc := sender.GetParameters().Encodings
	if len(enc) == 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.report.writers == nil {
		t.report.writers = map[uint32]func([]rtcp.Packet) error{}
	}
	t.report.writers[uint32(enc[0].SSRC)] = pc.WriteRTCP
}

// forgetReports drops sender's RTCP writer if it was never bound.
func (t *fanoutTrack) forgetReports(sender *webrtc.RTPSender) {
	if enc := sender.GetParameters().Encodings; len(enc) > 0 {
		t.mu.Lock()
		delete(t.report.writers, uint32(enc[0].SSRC))
		t.mu.Unlock()
	}
}

// bindReports gives sub its RTCP writer, if reportTo named it, and starts
// the track's timer. t.mu is held.
func (t *fanoutTrack) bindReports(sub *subscriber) {
	w := t.report.writers[sub.ssrc]
	if w == nil {
		return
	}
	delete(t.report.writers, sub.ssrc)
	sub.rtcp, sub.basePackets, sub.baseOctets = w, t.report.packets, t.report.octets
	if t.report.timer == nil {
		t.report.timer = time.AfterFunc(senderReportInterval, t.sendReports)
	}
}

// written counts a packet the fan-out wrote to every subscriber at now.
// Like pion's interceptor, the RTP/wall-clock mapping moves only on the
// first in-order packet of a frame: a large frame's later packets, sent
// after it, would otherwise make the stream look late.
func (t *fanoutTrack) written(h *rtp.Header, payload []byte, now time.Time) {
	t.mu.Lock()
	r := &t.report
	if diff := h.SequenceNumber - r.sn; r.at.IsZero() || (diff > 0 && diff < 1<<15) {
		r.sn = h.SequenceNumber
		if r.at.IsZero() || h.Timestamp != r.rtpTime {
			r.rtpTime, r.at = h.Timestamp, now
		}
	}
	r.packets++
	r.octets += uint64(len(payload))
	t.mu.Unlock()
}

// sendReports writes a sender report to each subscriber that reportTo
// named and has been sent something, then waits for the next interval
// (the timer stops once no subscriber is left to report to).
func (t *fanoutTrack) sendReports() {
	now := time.Now()
	t.mu.Lock()
	r := t.report
	subs := t.subscribers()
	live := false
	for _, s := range subs {
		live = live || s.rtcp != nil
	}
	if !live && len(r.writers) == 0 {
		t.report.timer = nil
	} else {
		t.report.timer.Reset(senderReportInterval)
	}
	t.mu.Unlock()
	if r.at.IsZero() {
		return
	}
	rtpTime := r.rtpTime + uint32(now.Sub(r.at).Seconds()*t.clockRate)
	ntp := ntpTime(now)
	for _, s := range subs {
		if s.rtcp == nil || r.packets == s.basePackets {
			continue
		}
		sr := &rtcp.SenderReport{SSRC: s.ssrc, NTPTime: ntp, RTPTime: rtpTime,
			PacketCount: uint32(r.packets - s.basePackets), OctetCount: uint32(r.octets - s.baseOctets)}
		// A closing viewer's write fails; its cleanup removes it.
		_ = s.rtcp([]rtcp.Packet{sr})
	}
}

// ntpTime is t as a 64-bit NTP timestamp (seconds since 1900, 32.32).
func ntpTime(t time.Time) uint64 {
	const epoch = 2208988800 // 1900 to 1970, in seconds
	ns := uint64(t.UnixNano())
	secs := ns/1e9 + epoch
	frac := (ns % 1e9) << 32 / 1e9
	return secs<<32 | frac
}
