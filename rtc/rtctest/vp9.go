package rtctest

import (
	"bytes"
	_ "embed"
	"errors"
	"io"
	"testing"

	"github.com/pion/webrtc/v4/pkg/media/ivfreader"
)

//go:embed testdata/moving-96x64-vp9.ivf
var vp9IVF []byte

// VP9Frames returns the VP9 frames of the VP9 test clip (96×64, profile 0,
// 30 frames at 30 fps); frame 0 is a keyframe.
func VP9Frames(t testing.TB) [][]byte {
	t.Helper()
	r, h, err := ivfreader.NewWith(bytes.NewReader(vp9IVF))
	if err != nil {
		t.Fatalf("ivf: %v", err)
	}
	if string(h.FourCC[:]) != "VP90" {
		t.Fatalf("the VP9 clip is %q", h.FourCC)
	}
	var frames [][]byte
	for {
		f, _, err := r.ParseNextFrame()
		if errors.Is(err, io.EOF) {
			return frames
		}
		if err != nil {
			t.Fatalf("ivf frame: %v", err)
		}
		frames = append(frames, f)
	}
}
