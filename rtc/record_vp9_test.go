package rtc_test

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"

	"salonbase/rtc/rtctest"
)

// publishVP9 connects a Pion publisher sending the VP9 test clip (looped,
// 30 fps, from its keyframe again on each PLI) and Opus silence.
func publishVP9(t *testing.T, url, token string) (res rtctest.Result, plis func() int) {
	t.Helper()
	frames := rtctest.VP9Frames(t)
	pc := rtctest.NewPeerConnection(t)
	video, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP9, ClockRate: 90000, SDPFmtpLine: "profile-id=0"}, "video", "cam")
	if err != nil {
		t.Fatal(err)
	}
	audio, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus}, "audio", "cam")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	restart, n := false, 0
	for _, tr := range []webrtc.TrackLocal{video, audio} {
		tc, err := pc.AddTransceiverFromTrack(tr, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			for {
				pkts, _, err := tc.Sender().ReadRTCP()
				if err != nil {
					return
				}
				for _, p := range pkts {
					if _, ok := p.(*rtcp.PictureLossIndication); ok {
						mu.Lock()
						restart, n = true, n+1
						mu.Unlock()
					}
				}
			}
		}()
	}
	res = rtctest.PostOffer(t, pc, url, token)
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		vt, at := time.NewTicker(time.Second/30), time.NewTicker(20*time.Millisecond)
		defer vt.Stop()
		defer at.Stop()
		for i := 0; ; {
			select {
			case <-stop:
				return
			case <-vt.C:
				mu.Lock()
				if restart {
					restart, i = false, 0
				}
				mu.Unlock()
				_ = video.WriteSample(media.Sample{Data: frames[i%len(frames)], Duration: time.Second / 30})
				i++
			case <-at.C:
				_ = audio.WriteSample(media.Sample{Data: rtctest.OpusSilence, Duration: 20 * time.Millisecond})
			}
		}
	}()
	t.Cleanup(func() {
		close(stop)
		<-done
		_ = pc.Close()
	})
	return res, func() int {
		mu.Lock()
		defer mu.Unlock()
		return n
	}
}

// A publisher sending VP9 is recorded as VP9 (no transcoding): the file's
// video track is V_VP9 at the clip's size, starts at a keyframe, has a
// keyframe per loop of the clip and plays as long as it was live.
func TestVP9PublisherIsRecorded(t *testing.T) {
	url, srv, authz, live, recorded := recordEnv(t, "")
	authz.hosts["vp9"] = "host"
	res, _ := publishVP9(t, url+"/api/rtc/live/vp9/whip", "host")
	if res.Status != http.StatusCreated {
		t.Fatalf("publish: %d %s", res.Status, res.Body)
	}
	select {
	case <-live:
	case <-time.After(10 * time.Second):
		t.Fatal("the VP9 stream never went live")
	}
	time.Sleep(4 * time.Second)
	info := endAndInspect(t, srv, "vp9", recorded)
	v, a := info.Track("V_VP9"), info.Track("A_OPUS")
	if v == nil || a == nil || info.Track("V_VP8") != nil {
		t.Fatalf("tracks: %+v", info.Tracks)
	}
	if v.Width != 96 || v.Height != 64 {
		t.Errorf("video size %dx%d, want 96x64", v.Width, v.Height)
	}
	// About 4 s at 30 fps, a keyframe every 30 frames (more if the recorder
	// asked for one).
	if v.Blocks < 60 || v.Keyframes < 2 || v.Keyframes > v.Blocks/10 || a.Blocks < 100 || !v.Ordered || !a.Ordered {
		t.Fatalf("video %d blocks, %d keyframes; audio %d blocks", v.Blocks, v.Keyframes, a.Blocks)
	}
	// It starts at a keyframe: an uncompressed VP9 header (frame marker 2,
	// profile 0, show_existing_frame 0, frame_type 0) and the sync code.
	f := v.FirstFrame
	if len(f) < 4 || f[0]>>6 != 2 || f[0]&0x3c != 0 || f[1] != 0x49 || f[2] != 0x83 || f[3] != 0x42 {
		t.Fatalf("the first video frame is not a VP9 keyframe: % x", f[:min(len(f), 8)])
	}
	if d := (a.First - v.First).Abs(); d > 300*time.Millisecond {
		t.Errorf("audio starts %s away from video", d)
	}
	if info.Duration < 2*time.Second || info.Duration > 5*time.Second || info.Cues == 0 {
		t.Errorf("duration %s, cues %d for a stream live about 4 s", info.Duration, info.Cues)
	}
}
