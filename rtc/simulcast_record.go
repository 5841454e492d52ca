package rtc

import (
	"fmt"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
)

// Recording a simulcast video: the recorder is one more viewer of the
// layered track, one that always takes the top layer (the best picture the
// publisher sends), with its own sequence/timestamp and VP8 mungers and a
// keyframe request at each switch (the top layer may pause and come back,
// or a rejoining publisher bring new ones). What it gets goes to a
// forwarder that no connection sends: the recorder reads forwarders.

// recordForwarder makes the recording's forwarder for l and joins its
// viewer. Called with the server's mu held, as the stream goes live.
func (l *layered) recordForwarder() (*forwarder, error) {
	f, err := newForwarder(l.codec, webrtc.RTPCodecTypeVideo, l.trackID, l.streamID)
	if err != nil {
		return nil, fmt.Errorf("recording track: %w", err)
	}
	v, err := l.newViewer(nil)
	if err != nil {
		return nil, fmt.Errorf("recording track: %w", err)
	}
	v.rec = f
	l.join(v)
	return f, nil
}

// record hands a packet forwarded to the recording viewer v to its
// forwarder's recorder, and points the forwarder's keyframe requests (the
// recorder asks for one after a loss) at the layer it comes from. Guarded
// by mu.
func (l *layered) record(v *layerViewer, ly *layer) {
	f := v.rec
	f.mu.Lock()
	if f.ssrc != ly.ssrc || f.source != l.source {
		f.source, f.remote, f.ssrc = l.source, ly.remote, ly.ssrc
	}
	f.mu.Unlock()
	if sink := f.rec.Load(); sink != nil {
		sink.push(&v.out)
	}
}

// recordLayered gives st's recording a forwarder per simulcast video.
// Called with s.mu held.
func (s *Server) recordLayered(st *stream) []*forwarder {
	var out []*forwarder
	for _, l := range st.simulcast {
		f, err := l.recordForwarder()
		if err != nil {
			s.log.Error("rtc simulcast video not recorded", "stream", st.id, "error", err)
			continue
		}
		out = append(out, f)
	}
	return out
}

// senderReport passes a publisher's sender report for the layer a
// recording viewer gets on to its recorder, its RTP time mapped like the
// packets (the recording aligns audio and video with them).
func (l *layered) senderReport(sr *rtcp.SenderReport) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for v := range l.viewers {
		if v.rec == nil || !v.started || v.munger.pending {
			continue
		}
		if ly := l.layers[v.current]; ly != nil && ly.ssrc == sr.SSRC {
			if sink := v.rec.rec.Load(); sink != nil {
				sink.senderReport(sr.NTPTime, sr.RTPTime+v.munger.tsOff)
			}
		}
	}
}
