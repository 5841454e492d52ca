package rtc

import (
	"fmt"
	"strings"
)

// withStartBitrate asks a browser publisher to start sending video at kbps
// (Chrome's x-google-start-bitrate, read from the answer's fmtp of the
// codec it sends). Without it Chrome starts at 300 kbit/s, picks its
// camera resolution from that start (640x360 for a 720p camera) and only
// climbs from there. Every video payload type of the answer gets it: an
// fmtp line that exists is extended, one that is missing is added after
// the payload's rtpmap. Other browsers ignore the parameter.
func withStartBitrate(sdp string, kbps int) string {
	if kbps <= 0 {
		return sdp
	}
	param := fmt.Sprintf("x-google-start-bitrate=%d", kbps)
	lines := strings.SplitAfter(sdp, "\n")
	var out strings.Builder
	video := false
	fmtp := map[string]bool{} // payload types of this m-section with an fmtp line
	for _, l := range lines {
		if strings.HasPrefix(l, "a=fmtp:") {
			if pt, _, ok := strings.Cut(strings.TrimPrefix(l, "a=fmtp:"), " "); ok {
				fmtp[pt] = true
			}
		}
	}
	// Payload types are per m-section, but the same number means the same
	// codec in every section of an answer pion writes; fmtp collects all.
	for _, l := range lines {
		if strings.HasPrefix(l, "m=") {
			video = strings.HasPrefix(l, "m=video ")
		}
		body := strings.TrimRight(l, "\r\n")
		eol := l[len(body):]
		switch {
		case video && strings.HasPrefix(body, "a=fmtp:") && !strings.Contains(body, "x-google-start-bitrate"):
			out.WriteString(body + ";" + param + eol)
			continue
		case video && strings.HasPrefix(body, "a=rtpmap:"):
			out.WriteString(l)
			pt, codec, _ := strings.Cut(strings.TrimPrefix(body, "a=rtpmap:"), " ")
			name := strings.ToLower(codec)
			if !fmtp[pt] && !strings.HasPrefix(name, "rtx/") && !strings.HasPrefix(name, "red/") && !strings.HasPrefix(name, "ulpfec/") {
				out.WriteString("a=fmtp:" + pt + " " + param + eol)
			}
			continue
		}
		out.WriteString(l)
	}
	return out.String()
}
