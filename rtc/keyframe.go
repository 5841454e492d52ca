package rtc

import (
	"strings"

	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
)

// isKeyframeStart reports whether an RTP payload is the first packet of a
// keyframe (a frame a decoder can start from). Codecs it cannot inspect
// count as yes: better a glitch than a stream that never resumes.
func isKeyframeStart(mimeType string, payload []byte) bool {
	if len(payload) == 0 {
		return false
	}
	switch {
	case strings.EqualFold(mimeType, webrtc.MimeTypeVP8):
		var p codecs.VP8Packet
		if _, err := p.Unmarshal(payload); err != nil || p.S != 1 || p.PID != 0 || len(p.Payload) == 0 {
			return false
		}
		return p.Payload[0]&1 == 0 // frame tag: P bit clear = keyframe
	case strings.EqualFold(mimeType, webrtc.MimeTypeVP9):
		var p codecs.VP9Packet
		if _, err := p.Unmarshal(payload); err != nil {
			return false
		}
		return p.B && !p.P && p.SID == 0
	case strings.EqualFold(mimeType, webrtc.MimeTypeH264):
		return h264KeyframeStart(payload)
	case strings.EqualFold(mimeType, webrtc.MimeTypeAV1):
		return payload[0]&0x08 != 0 // aggregation header N: a new coded video sequence starts
	}
	return true
}

// h264KeyframeStart: an IDR slice or SPS alone, in a STAP-A, or at the
// start of an FU-A (RFC 6184).
func h264KeyframeStart(p []byte) bool {
	isKey := func(t byte) bool { return t == 5 || t == 7 }
	switch p[0] & 0x1f {
	case 5, 7:
		return true
	case 24: // STAP-A: 16-bit size, NAL unit, ...
		for i := 1; i+2 < len(p); {
			size := int(p[i])<<8 | int(p[i+1])
			i += 2
			if isKey(p[i] & 0x1f) {
				return true
			}
			i += size
		}
	case 28: // FU-A: start bit and the fragmented unit's type
		return len(p) > 1 && p[1]&0x80 != 0 && isKey(p[1]&0x1f)
	}
	return false
}
