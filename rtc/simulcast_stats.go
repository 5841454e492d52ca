package rtc

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// What a simulcast viewer got, for the log line when it leaves and for
// tests: a picture that stutters shows here as layer switches, keyframe
// waits and packets held back, or as a layer the publisher sends at a low
// frame rate.

// viewerCounts is one viewer's tally. Guarded by layered.mu.
type viewerCounts struct {
	joined   time.Time
	first    time.Time      // its first picture
	switches int            // layer changes after the first picture
	retarget int            // target changes (each waits for a keyframe)
	waited   time.Duration  // from a target change to its keyframe, summed
	held     int            // packets held back after a switch, waiting for a keyframe
	asked    int            // keyframe requests (PLI, FIR) from the viewer
	frames   map[string]int // frames forwarded, by layer
}

// ViewerLayerStats is what one viewer of a simulcast video got so far.
type ViewerLayerStats struct {
	Joined   time.Time      // when its connection was up
	Layer    string         // the layer forwarded now ("" none yet)
	Target   string         // the layer it is to switch to at its keyframe
	Switches int            // layer changes after its first picture
	Targets  int            // target changes (a keyframe wait each)
	Held     int            // packets held back after a switch, waiting for a keyframe
	Frames   map[string]int // frames forwarded, by layer
}

// LayerInputStats is what the publisher sent on one layer so far.
type LayerInputStats struct {
	Frames, Keyframes, KeyframeRequests uint64
	Bitrate                             float64 // bits/s, smoothed
}

// frameDone counts a forwarded packet that ends a frame. Guarded by mu.
func (v *layerViewer) frameDone(rid string, marker bool) {
	if !marker {
		return
	}
	if v.n.frames == nil {
		v.n.frames = map[string]int{}
	}
	v.n.frames[rid]++
}

// stats copies v's tally. Guarded by mu.
func (v *layerViewer) stats() ViewerLayerStats {
	return ViewerLayerStats{Joined: v.n.joined, Layer: v.current, Target: v.target, Switches: v.n.switches, Targets: v.n.retarget,
		Held: v.n.held, Frames: maps.Clone(v.n.frames)}
}

// LayerStats reports, for tests and monitoring, what each viewer of a
// stream's simulcast video got (first joined first), and what each layer
// brought in (by RID).
func (s *Server) LayerStats(streamID string) ([]ViewerLayerStats, map[string]LayerInputStats) {
	ls := s.simulcastOf(streamID)
	var out []ViewerLayerStats
	in := map[string]LayerInputStats{}
	for _, l := range ls {
		l.mu.Lock()
		for v := range l.viewers {
			if v.rec == nil {
				out = append(out, v.stats())
			}
		}
		for rid, ly := range l.layers {
			in[rid] = ly.inputStats()
		}
		l.mu.Unlock()
	}
	slices.SortFunc(out, func(a, b ViewerLayerStats) int { return a.Joined.Compare(b.Joined) })
	return out, in
}

// inputStats copies ly's counters. Guarded by layered.mu (rate).
func (ly *layer) inputStats() LayerInputStats {
	return LayerInputStats{Frames: ly.frames.Load(), Keyframes: ly.keyframes.Load(),
		KeyframeRequests: ly.plis.Load(), Bitrate: ly.rate}
}

// logLeft writes one line for a viewer that left: how long it watched,
// its switches and keyframe waits, the frames it got per layer and per
// second, and what each layer brought in meanwhile. Guarded by mu.
func (l *layered) logLeft(v *layerViewer, now time.Time) {
	if l.log == nil || v.rec != nil {
		return
	}
	secs := now.Sub(v.n.joined).Seconds()
	frames := 0
	for _, n := range v.n.frames {
		frames += n
	}
	var in []string
	for _, rid := range slices.Sorted(maps.Keys(l.layers)) {
		ly := l.layers[rid]
		in = append(in, rid+":"+strconv.FormatUint(ly.frames.Load(), 10)+"f/"+
			strconv.FormatUint(ly.keyframes.Load(), 10)+"k/"+strconv.FormatUint(ly.plis.Load(), 10)+"pli")
	}
	var got []string
	for _, rid := range slices.Sorted(maps.Keys(v.n.frames)) {
		got = append(got, rid+":"+strconv.Itoa(v.n.frames[rid]))
	}
	fps := 0.0
	if !v.n.first.IsZero() && now.Sub(v.n.first) > 0 {
		fps = float64(frames) / now.Sub(v.n.first).Seconds()
	}
	l.log.Info("rtc simulcast viewer left", "stream", strings.TrimPrefix(l.streamID, "live-"),
		"seconds", round1(secs), "first_picture_ms", v.n.first.Sub(v.n.joined).Milliseconds(),
		"layer", v.current, "switches", v.n.switches, "target_changes", v.n.retarget,
		"keyframe_wait_ms", v.n.waited.Milliseconds(), "held", v.n.held, "viewer_plis", v.n.asked,
		"frames", strings.Join(got, " "), "fps", round1(fps), "layers_in", strings.Join(in, " "))
}

func round1(f float64) float64 { return float64(int(f*10+0.5)) / 10 }
