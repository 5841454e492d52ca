package rtc

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
)

// Recording a stream that another SFU forwards (LiveKit): the application
// subscribes to the publisher's tracks as one more participant and hands
// each track it receives to a TrackRecording. Each kind of track goes
// through a forwarder that no connection sends, as a simulcast recording
// does (simulcast_record.go), so the same recorder writes the same WebM
// file, and a track that replaces another of its kind (the publisher
// switched camera, shared the screen, or reconnected) continues it as a
// publisher's new input does on the embedded server.

// TrackRecording records one stream's tracks received from elsewhere.
type TrackRecording struct {
	dir, streamID string

	mu     sync.Mutex
	rec    *recorder
	tracks []*forwarder // one per kind
	off    bool         // the video codec cannot be recorded, or finished
}

// NewTrackRecording records stream streamID into a file in dir, named as
// the embedded server names its recordings (see RecordingStream). The file
// is created with the first track.
func NewTrackRecording(dir, streamID string) *TrackRecording {
	return &TrackRecording{dir: dir, streamID: streamID}
}

// Add records remote, read until it ends; pli asks its publisher for a
// keyframe. A track of a kind recorded already replaces the one before it
// when its codec is the same (and is ignored otherwise).
func (x *TrackRecording) Add(remote *webrtc.TrackRemote, pli func()) error {
	codec := remote.Codec().RTPCodecCapability
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.off {
		return nil
	}
	for _, f := range x.tracks {
		if f.kind != remote.Kind() {
			continue
		}
		if !strings.EqualFold(f.codec.MimeType, codec.MimeType) {
			return fmt.Errorf("recording: a %s track in %s after one in %s", remote.Kind(), codec.MimeType, f.codec.MimeType)
		}
		f.attachRemote(remote, pli)
		go f.run(remote)
		return nil
	}
	f, err := newForwarder(codec, remote.Kind(), remote.ID(), remote.StreamID())
	if err != nil {
		return fmt.Errorf("recording track: %w", err)
	}
	f.attachRemote(remote, pli)
	switch {
	case x.rec == nil:
		rec, err := newRecorder(x.dir, x.streamID, []*forwarder{f})
		if err != nil {
			return err
		}
		if rec == nil {
			x.off = true
			return fmt.Errorf("recording: WebM cannot carry %s", codec.MimeType)
		}
		x.rec = rec
	case !recordable(codec):
		if f.kind == webrtc.RTPCodecTypeVideo {
			return fmt.Errorf("recording: WebM cannot carry %s; the sound alone is recorded", codec.MimeType)
		}
		return nil
	default:
		x.rec.add(f)
	}
	x.tracks = append(x.tracks, f)
	go f.run(remote)
	return nil
}

// SenderReport passes on a sender report of a recorded track (the
// recording aligns audio and video with them).
func (x *TrackRecording) SenderReport(sr *rtcp.SenderReport) {
	x.mu.Lock()
	tracks := append([]*forwarder(nil), x.tracks...)
	x.mu.Unlock()
	for _, f := range tracks {
		f.senderReport(sr)
	}
}

// Dropped is how many packets the recorder's queue could not take.
func (x *TrackRecording) Dropped() uint64 {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.rec == nil {
		return 0
	}
	return x.rec.dropped.Load()
}

// Finish stops recording and closes the file, which the caller owns then.
// It fails when nothing was recorded (no file is left).
func (x *TrackRecording) Finish() (path string, frames int, err error) {
	x.mu.Lock()
	rec, off := x.rec, x.off
	x.off = true
	x.mu.Unlock()
	if rec == nil {
		return "", 0, errors.New("recording: no track was recorded")
	}
	if off { // only Finish sets it once a recorder runs
		return "", 0, errors.New("recording: finished already")
	}
	return rec.finish()
}

// attachRemote makes remote, a track received from another SFU, the
// forwarder's input; pli asks for its keyframes.
func (f *forwarder) attachRemote(remote *webrtc.TrackRemote, pli func()) {
	f.mu.Lock()
	f.pli = pli
	f.mu.Unlock()
	f.attach(nil, remote)
}
