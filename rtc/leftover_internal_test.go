package rtc

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"golang.org/x/image/vp8"

	"salonbase/rtc/rtctest"
)

// A recording cut short by a crash (no duration, no seek index, its last
// frame half written) is repaired into a complete file holding every frame
// that was written whole; a file cut inside its header is refused.
func TestRepairRecordingCutShort(t *testing.T) {
	frames := rtctest.VideoFrames(t)
	vf, af := avForwarders(t, vp8Codec)
	dir := t.TempDir()
	rec, err := newRecorder(dir, "stream42abc", []*forwarder{vf, af})
	if err != nil || rec == nil {
		t.Fatalf("recorder: %v %v", rec, err)
	}
	if id, ok := RecordingStream(filepath.Base(rec.path)); !ok || id != "stream42abc" {
		t.Fatalf("the file %s is not named after its stream (%q)", rec.path, id)
	}
	vsink, asink := vf.rec.Load(), af.rec.Load()

	// Six passes of the clip at 30 fps (a keyframe, so a cluster, each),
	// Opus every 20 ms, sender reports first.
	vp := rtp.NewPacketizer(1200, 96, 1, &codecs.VP8Payloader{}, rtp.NewFixedSequencer(1000), 90000)
	var video []*rtp.Packet
	for range 6 {
		for _, fr := range frames {
			video = append(video, vp.Packetize(fr, 3000)...)
		}
	}
	var audio []*rtp.Packet
	for i := range 6 * len(frames) * 20 / 30 {
		audio = append(audio, &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SSRC: 2,
			SequenceNumber: uint16(500 + i), Timestamp: uint32(7000 + 960*i)}, Payload: rtctest.OpusSilence})
	}
	t0 := time.Now()
	vsink.push(video[0])
	asink.push(audio[0])
	vsink.senderReport(toNTP(t0), video[0].Timestamp)
	asink.senderReport(toNTP(t0), 7000)
	interleave(vsink, asink, video[1:], audio[1:])
	// The process dies here: the file as the recorder left it so far.
	var snap []byte
	rtctest.Eventually(t, 10*time.Second, "frames written", func() bool {
		b, err := os.ReadFile(rec.path)
		if err != nil {
			t.Fatal(err)
		}
		grown := len(b) > len(snap)
		snap = b
		return !grown && len(b) > recordCues+2000
	})
	whole, err := InspectRecording(bytes.NewReader(snap))
	if err != nil {
		t.Fatalf("the snapshot ends between frames, it should parse: %v", err)
	}
	wv, wa := whole.Track("V_VP8"), whole.Track("A_OPUS")
	if wv == nil || wa == nil || wv.Blocks < len(frames) || whole.Cues != 0 || whole.Duration > time.Millisecond {
		t.Fatalf("snapshot: %+v", whole)
	}
	path, _, err := rec.finish()
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(path)

	// Its last frame half written.
	left := filepath.Join(dir, "live-stream42abc-123.webm")
	if err := os.WriteFile(left, snap[:len(snap)-3], 0o600); err != nil {
		t.Fatal(err)
	}
	n, err := RepairRecording(left)
	if err != nil {
		t.Fatal(err)
	}
	if n != wv.Blocks+wa.Blocks-1 {
		t.Errorf("repaired %d frames of %d whole ones", n, wv.Blocks+wa.Blocks-1)
	}
	info := inspectFile(t, left)
	v, a := info.Track("V_VP8"), info.Track("A_OPUS")
	if v == nil || a == nil || v.Blocks+a.Blocks != n || v.Keyframes != wv.Keyframes || v.Width != 64 || !v.Ordered || !a.Ordered {
		t.Fatalf("repaired: %+v", info.Tracks)
	}
	if info.Cues == 0 || info.Duration < v.Last || info.Duration < a.Last || info.Duration < time.Second {
		t.Errorf("repaired: duration %s (last blocks %s, %s), cues %d", info.Duration, v.Last, a.Last, info.Cues)
	}
	if v.First != wv.First || a.First != wa.First {
		t.Errorf("first blocks at %s, %s; were %s, %s", v.First, a.First, wv.First, wa.First)
	}
	d := vp8.NewDecoder()
	d.Init(bytes.NewReader(v.FirstFrame), len(v.FirstFrame))
	if fh, err := d.DecodeFrameHeader(); err != nil || !fh.KeyFrame {
		t.Fatalf("first video frame: %+v %v", fh, err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("files in the recordings dir: %v", ents)
	}

	// Cut inside its header: nothing to repair, the file is left alone.
	head := filepath.Join(dir, "live-other-1.webm")
	if err := os.WriteFile(head, snap[:100], 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := RepairRecording(head); err == nil {
		t.Fatal("a file cut inside its header was repaired")
	}
	if b, _ := os.ReadFile(head); len(b) != 100 {
		t.Errorf("the unrepairable file was changed: %d bytes", len(b))
	}
	for _, name := range []string{"repair-1.webm", "live-.webm", "live-x.webm", "notes.txt"} {
		if id, ok := RecordingStream(name); ok {
			t.Errorf("%s taken for a recording of %q", name, id)
		}
	}

	// The stream recorded again after a restart: the part cut short by the
	// crash and the new recording join into one file, the new part after
	// the first, every whole frame of both kept.
	cut := filepath.Join(dir, "live-stream42abc-456.webm")
	again := filepath.Join(dir, "live-stream42abc-789.webm")
	if err := os.WriteFile(cut, snap[:len(snap)-3], 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(again, snap, 0o600); err != nil { // ends between frames
		t.Fatal(err)
	}
	joined := filepath.Join(dir, "joined.webm")
	m, err := JoinRecordings(joined, cut, again)
	if err != nil {
		t.Fatal(err)
	}
	if want := 2*(wv.Blocks+wa.Blocks) - 1; m != want {
		t.Errorf("joined %d frames, want %d", m, want)
	}
	jf, err := os.Open(joined)
	if err != nil {
		t.Fatal(err)
	}
	defer jf.Close()
	ji, err := InspectRecording(jf)
	if err != nil {
		t.Fatal(err)
	}
	jv, ja := ji.Track("V_VP8"), ji.Track("A_OPUS")
	if jv == nil || ja == nil || jv.Blocks+ja.Blocks != m || jv.Keyframes != 2*wv.Keyframes || !jv.Ordered || !ja.Ordered {
		t.Fatalf("joined: %+v", ji.Tracks)
	}
	// The second part starts after the first's last frame.
	if span := wv.Last - wv.First; jv.Last < jv.First+2*span || ji.Duration < jv.Last || ji.Cues == 0 {
		t.Errorf("joined: video %s–%s (one part spans %s), duration %s, cues %d", jv.First, jv.Last, span, ji.Duration, ji.Cues)
	}
	for _, part := range []string{cut, again} {
		if _, err := os.Stat(part); err != nil {
			t.Errorf("a part was removed: %v", err)
		}
	}
}

// A host who went on air with audio only and added the camera after the
// server restarted: the two recordings join into one file that keeps the
// second part's video (after the first part's audio) and both parts' audio.
func TestJoinRecordingsKeepsVideoTheFirstPartLacks(t *testing.T) {
	dir := t.TempDir()
	_, af := avForwarders(t, vp8Codec)
	audioOnly := recordPart(t, dir, nil, af)
	vf, af := avForwarders(t, vp8Codec)
	withVideo := recordPart(t, dir, vf, af)
	first, second := inspectFile(t, audioOnly), inspectFile(t, withVideo)
	fa, sv, sa := first.Track("A_OPUS"), second.Track("V_VP8"), second.Track("A_OPUS")
	if fa == nil || first.Track("V_VP8") != nil || sv == nil || sa == nil {
		t.Fatalf("parts: %+v, %+v", first.Tracks, second.Tracks)
	}

	joined := filepath.Join(dir, "joined.webm")
	n, err := JoinRecordings(joined, audioOnly, withVideo)
	if err != nil {
		t.Fatal(err)
	}
	if want := fa.Blocks + sv.Blocks + sa.Blocks; n != want {
		t.Errorf("joined %d frames, want %d", n, want)
	}
	info := inspectFile(t, joined)
	v, a := info.Track("V_VP8"), info.Track("A_OPUS")
	if v == nil || a == nil {
		t.Fatalf("joined tracks: %+v", info.Tracks)
	}
	if v.Blocks != sv.Blocks || v.Keyframes != sv.Keyframes || v.Width != 64 || !v.Ordered {
		t.Errorf("joined video: %+v, recorded %+v", v, sv)
	}
	if a.Blocks != fa.Blocks+sa.Blocks || !a.Ordered {
		t.Errorf("joined audio: %d blocks, recorded %d + %d", a.Blocks, fa.Blocks, sa.Blocks)
	}
	// The video belongs to the second part: it starts after the first
	// part's audio ended.
	if v.First <= fa.Last || info.Duration < v.Last || info.Cues == 0 {
		t.Errorf("joined: video from %s, first part's audio until %s, duration %s, cues %d", v.First, fa.Last, info.Duration, info.Cues)
	}
	d := vp8.NewDecoder()
	d.Init(bytes.NewReader(v.FirstFrame), len(v.FirstFrame))
	if fh, err := d.DecodeFrameHeader(); err != nil || !fh.KeyFrame {
		t.Fatalf("first video frame: %+v %v", fh, err)
	}
}

// recordPart records three passes of the test clip (video when vf is not
// nil) with Opus audio every 20 ms, as one stream's recording, and returns
// the finished file.
func recordPart(t *testing.T, dir string, vf, af *forwarder) string {
	t.Helper()
	frames := rtctest.VideoFrames(t)
	tracks := []*forwarder{af}
	if vf != nil {
		tracks = append(tracks, vf)
	}
	rec, err := newRecorder(dir, "stream42abc", tracks)
	if err != nil || rec == nil {
		t.Fatalf("recorder: %v %v", rec, err)
	}
	var audio []*rtp.Packet
	for i := range 3 * len(frames) * 20 / 30 {
		audio = append(audio, &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SSRC: 2,
			SequenceNumber: uint16(500 + i), Timestamp: uint32(7000 + 960*i)}, Payload: rtctest.OpusSilence})
	}
	t0 := time.Now()
	asink := af.rec.Load()
	if vf == nil {
		asink.push(audio[0])
		asink.senderReport(toNTP(t0), 7000)
		for _, p := range audio[1:] {
			asink.push(p)
		}
	} else {
		vp := rtp.NewPacketizer(1200, 96, 1, &codecs.VP8Payloader{}, rtp.NewFixedSequencer(1000), 90000)
		var video []*rtp.Packet
		for range 3 {
			for _, fr := range frames {
				video = append(video, vp.Packetize(fr, 3000)...)
			}
		}
		vsink := vf.rec.Load()
		vsink.push(video[0])
		asink.push(audio[0])
		vsink.senderReport(toNTP(t0), video[0].Timestamp)
		asink.senderReport(toNTP(t0), 7000)
		interleave(vsink, asink, video[1:], audio[1:])
	}
	path, written, err := rec.finish()
	if err != nil || written == 0 {
		t.Fatalf("finish: %d frames, %v", written, err)
	}
	return path
}
