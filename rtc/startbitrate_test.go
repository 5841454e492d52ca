package rtc_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/pion/sdp/v3"

	"salonbase/rtc"
	"salonbase/rtc/rtctest"
)

// startBitrates returns, per video payload type of an SDP, its
// x-google-start-bitrate ("" when absent).
func startBitrates(t *testing.T, raw string) map[uint8]string {
	t.Helper()
	var d sdp.SessionDescription
	if err := d.UnmarshalString(raw); err != nil {
		t.Fatalf("the answer does not parse: %v\n%s", err, raw)
	}
	out := map[uint8]string{}
	for _, m := range d.MediaDescriptions {
		if m.MediaName.Media != "video" {
			continue
		}
		for _, f := range m.MediaName.Formats {
			pt, err := strconv.Atoi(f)
			if err != nil {
				t.Fatal(err)
			}
			c, err := d.GetCodecForPayloadType(uint8(pt))
			if err != nil {
				t.Fatal(err)
			}
			v := ""
			for _, p := range strings.Split(c.Fmtp, ";") {
				if k, val, ok := strings.Cut(strings.TrimSpace(p), "="); ok && k == "x-google-start-bitrate" {
					v = val
				}
			}
			out[c.PayloadType] = v
		}
	}
	return out
}

// A publisher's answer asks a browser to start sending video at
// StartPublishBitrate (Chrome otherwise starts at 300 kbit/s and picks a
// small picture from that); the answer stays valid SDP that Pion accepts
// and the stream goes live. A viewer's answer has no such parameter, nor
// has a publisher's when the operator turns it off (-1).
func TestPublisherAnswerAsksForStartBitrate(t *testing.T) {
	e := newEnv(t, rtc.Config{StartPublishBitrate: 2_000_000})
	e.stream("s1", "host", "ann")
	pub := e.goLive(t, "s1", "host")
	got := startBitrates(t, pub.Result.Body)
	if len(got) == 0 {
		t.Fatalf("no video in the answer:\n%s", pub.Result.Body)
	}
	for pt, v := range got {
		if v != "2000" {
			t.Errorf("payload type %d: x-google-start-bitrate=%q, want 2000", pt, v)
		}
	}
	if n := strings.Count(pub.Result.Body, "x-google-start-bitrate"); n != len(got) {
		t.Errorf("the parameter appears %d times for %d video payload types", n, len(got))
	}
	ann := rtctest.View(t, e.url+"/api/rtc/live/s1/whep", "ann")
	if ann.Result.Status != http.StatusCreated {
		t.Fatalf("view: %d %s", ann.Result.Status, ann.Result.Body)
	}
	waitPicture(t, ann, "ann")
	if strings.Contains(ann.Result.Body, "x-google-start-bitrate") {
		t.Error("a viewer's answer asks for a start bitrate")
	}

	off := newEnv(t, rtc.Config{StartPublishBitrate: -1})
	off.stream("s2", "host")
	if p := off.goLive(t, "s2", "host"); strings.Contains(p.Result.Body, "x-google-start-bitrate") {
		t.Error("turned off, the answer still asks for a start bitrate")
	}
}
