package rtc_test

import (
	"bytes"
	"net/http"
	"testing"
	"time"

	"golang.org/x/image/vp8"

	"salonbase/rtc/rtctest"
)

// A publisher that sends three simulcast layers is recorded too: the
// recording holds the top layer (its frames carry that layer's 1500
// padding bytes), from a keyframe that decodes to the clip's picture, in
// order, with the audio, while a viewer watches as usual.
func TestSimulcastPublisherIsRecorded(t *testing.T) {
	url, srv, authz, live, recorded := recordEnv(t, "")
	authz.hosts["sr"] = "host"
	authz.viewers["sr"] = map[string]bool{"ann": true}
	pub := rtctest.PublishSimulcast(t, url+"/api/rtc/live/sr/whip", "host")
	if pub.Result.Status != http.StatusCreated {
		t.Fatalf("publish: %d %s", pub.Result.Status, pub.Result.Body)
	}
	select {
	case <-live:
	case <-time.After(10 * time.Second):
		t.Fatal("the simulcast stream did not go live")
	}
	ann := rtctest.View(t, url+"/api/rtc/live/sr/whep", "ann")
	rtctest.Eventually(t, 10*time.Second, "ann decodes the picture", func() bool { return len(ann.Stats().Keyframes) > 0 })
	time.Sleep(4 * time.Second)
	if ls := srv.Layers("sr"); len(ls) != 1 {
		t.Fatalf("layers %v: the recording counts as a viewer", ls)
	}
	info := endAndInspect(t, srv, "sr", recorded)
	v, a := info.Track("V_VP8"), info.Track("A_OPUS")
	if v == nil || a == nil {
		t.Fatalf("tracks: %d", len(info.Tracks))
	}
	t.Logf("recording: %s; video %dx%d, %d blocks (%d keyframes), the first %d bytes; audio %d blocks",
		info.Duration, v.Width, v.Height, v.Blocks, v.Keyframes, len(v.FirstFrame), a.Blocks)
	if v.Width != 64 || v.Height != 64 || v.Keyframes == 0 || v.Blocks < 60 || a.Blocks < 100 || !v.Ordered || !a.Ordered {
		t.Fatalf("video %dx%d %d blocks (%d keyframes, ordered %v), audio %d blocks (ordered %v)",
			v.Width, v.Height, v.Blocks, v.Keyframes, v.Ordered, a.Blocks, a.Ordered)
	}
	top := rtctest.SimulcastLayers[len(rtctest.SimulcastLayers)-1]
	if len(v.FirstFrame) < top.Pad {
		t.Fatalf("the first frame has %d bytes: not the %q layer's (padded by %d)", len(v.FirstFrame), top.RID, top.Pad)
	}
	d := vp8.NewDecoder()
	d.Init(bytes.NewReader(v.FirstFrame), len(v.FirstFrame))
	if _, err := d.DecodeFrameHeader(); err != nil {
		t.Fatalf("first frame: %v", err)
	}
	img, err := d.DecodeFrame()
	if err != nil {
		t.Fatalf("first frame: %v", err)
	}
	if err := rtctest.CheckPicture(img); err != nil {
		t.Fatalf("first frame: %v", err)
	}
	// The layer's sender reports align it with the audio.
	if d := (a.First - v.First).Abs(); d > 300*time.Millisecond {
		t.Errorf("audio starts %s away from video", d)
	}
	if info.Duration < 3*time.Second || info.Duration > 8*time.Second {
		t.Errorf("duration %s for a stream recorded about 5 s", info.Duration)
	}
}
