package rtc

import (
	"bytes"
	"os"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
	"golang.org/x/image/vp8"

	"salonbase/rtc/rtctest"
)

// toNTP is t as a 64-bit NTP timestamp.
// avForwarders are a stream's video (in the codec given) and Opus audio
// forwarders, as a publisher's tracks make them.
func avForwarders(t *testing.T, video webrtc.RTPCodecCapability) (vf, af *forwarder) {
	t.Helper()
	vf, err := newForwarder(video, webrtc.RTPCodecTypeVideo, "v", "s")
	if err != nil {
		t.Fatal(err)
	}
	af, err = newForwarder(opusCodec, webrtc.RTPCodecTypeAudio, "a", "s")
	if err != nil {
		t.Fatal(err)
	}
	return vf, af
}

// interleave pushes video and audio packets to their sinks as they would
// arrive: two audio packets (20 ms) for every three video ones (30 fps).
func interleave(vsink, asink *recordSink, video, audio []*rtp.Packet) {
	for i, j := 0, 0; i < len(video) || j < len(audio); {
		if i < len(video) {
			vsink.push(video[i])
			i++
		}
		if j < len(audio) && ((j+1)*3 < (i+1)*2 || i >= len(video)) {
			asink.push(audio[j])
			j++
		}
	}
}

// inspectFile reads the recording at path.
func inspectFile(t *testing.T, path string) RecordingInfo {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	info, err := InspectRecording(f)
	if err != nil {
		t.Fatal(err)
	}
	return info
}

func toNTP(t time.Time) uint64 {
	s := float64(t.UnixNano())/1e9 + 2208988800
	return uint64(s * (1 << 32))
}

// A recording survives reordering and loss: frames come out in order,
// video resumes only at a keyframe after a lost packet, and the sender
// reports (not the arrival order) place audio against video.
func TestRecorderReordersSkipsToKeyframeAndSyncsBySenderReports(t *testing.T) {
	frames := rtctest.VideoFrames(t)
	if len(frames) < 12 {
		t.Fatalf("the clip has %d frames", len(frames))
	}
	vf, af := avForwarders(t, vp8Codec)
	rec, err := newRecorder(t.TempDir(), "s", []*forwarder{vf, af})
	if err != nil || rec == nil {
		t.Fatalf("recorder: %v %v", rec, err)
	}
	vsink, asink := vf.rec.Load(), af.rec.Load()
	if vsink == nil || asink == nil {
		t.Fatal("the forwarders do not feed the recorder")
	}

	// Two passes of the clip (each starts with its keyframe), 30 fps;
	// Opus every 20 ms for the same 2×len(frames)/30 seconds.
	vp := rtp.NewPacketizer(1200, 96, 1, &codecs.VP8Payloader{}, rtp.NewFixedSequencer(1000), 90000)
	var video []*rtp.Packet
	lost := 0
	for pass := range 2 {
		for i, fr := range frames {
			pkts := vp.Packetize(fr, 3000)
			if pass == 0 && i == 10 {
				lost = len(pkts)
				continue // frame 10 is lost: frames up to the next keyframe are unusable
			}
			video = append(video, pkts...)
		}
	}
	videoTS0 := uint32(3000) // the packetizer's first timestamp is random: read it
	if len(video) > 0 {
		videoTS0 = video[0].Timestamp
	}
	nVideo := 2 * len(frames)
	var audio []*rtp.Packet
	for i := range nVideo * 20 / 30 {
		audio = append(audio, &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SSRC: 2,
			SequenceNumber: uint16(500 + i), Timestamp: uint32(7000 + 960*i)}, Payload: rtctest.OpusSilence})
	}
	// Swap neighbours: the network reorders.
	for i := 3; i+1 < len(audio); i += 7 {
		audio[i], audio[i+1] = audio[i+1], audio[i]
	}
	for i := 2; i+1 < len(video); i += 9 {
		video[i], video[i+1] = video[i+1], video[i]
	}
	// The publisher's clock: video timestamp videoTS0 was captured at t0,
	// audio timestamp 7000 at t0 + 200 ms.
	t0 := time.Now()
	vsink.push(video[0])
	asink.push(audio[0])
	vsink.senderReport(toNTP(t0), videoTS0)
	asink.senderReport(toNTP(t0.Add(200*time.Millisecond)), 7000)
	interleave(vsink, asink, video[1:], audio[1:])
	path, n, err := rec.finish()
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(path)
	if vf.rec.Load() != nil {
		t.Fatal("the forwarder still feeds a finished recorder")
	}
	info := inspectFile(t, path)
	v, a := info.Track("V_VP8"), info.Track("A_OPUS")
	if v == nil || a == nil {
		t.Fatalf("tracks: %+v", info.Tracks)
	}
	if v.Width != 64 || v.Height != 64 {
		t.Errorf("video size %dx%d, want 64x64", v.Width, v.Height)
	}
	// Frames 0-9, then (after the loss) the second pass only.
	if want := 10 + len(frames); v.Blocks != want {
		t.Errorf("video blocks %d, want %d (lost packets: %d)", v.Blocks, want, lost)
	}
	if v.Keyframes != 2 {
		t.Errorf("video keyframes %d, want 2", v.Keyframes)
	}
	// The last frames of each track may wait in the sample builder for a
	// successor that never comes: all but a couple must be there.
	if len(audio)-a.Blocks > 2 || a.Blocks > len(audio) {
		t.Errorf("audio blocks %d of %d", a.Blocks, len(audio))
	}
	if !v.Ordered || !a.Ordered {
		t.Error("blocks out of order")
	}
	if n != v.Blocks+a.Blocks {
		t.Errorf("finish counted %d frames, the file has %d", n, v.Blocks+a.Blocks)
	}
	if v.First != 0 || a.First != 200*time.Millisecond {
		t.Errorf("first video at %s, first audio at %s: want 0 and 200ms (the sender reports)", v.First, a.First)
	}
	if info.Duration < v.Last || info.Duration < a.Last || info.Cues == 0 {
		t.Errorf("duration %s (last blocks %s, %s), cues %d", info.Duration, v.Last, a.Last, info.Cues)
	}
	// The first video block is the clip's keyframe, whole.
	d := vp8.NewDecoder()
	d.Init(bytes.NewReader(v.FirstFrame), len(v.FirstFrame))
	if _, err := d.DecodeFrameHeader(); err != nil {
		t.Fatal(err)
	}
	img, err := d.DecodeFrame()
	if err != nil {
		t.Fatal(err)
	}
	if err := rtctest.CheckPicture(img); err != nil {
		t.Fatal(err)
	}
}

func TestRecorderSkipsCodecsWebMCannotCarry(t *testing.T) {
	vf, af := avForwarders(t, webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000})
	dir := t.TempDir()
	rec, err := newRecorder(dir, "s", []*forwarder{vf, af})
	if rec != nil || err != nil {
		t.Fatalf("an H264 stream was recorded: %v %v", rec, err)
	}
	if af.rec.Load() != nil {
		t.Fatal("the audio forwarder feeds a recorder")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("files left: %v", ents)
	}
}
