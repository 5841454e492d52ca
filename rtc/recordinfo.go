package rtc

import (
	"fmt"
	"io"
	"time"

	"github.com/at-wat/ebml-go"
	"github.com/at-wat/ebml-go/webm"
)

// RecordingInfo describes a WebM file as a player would read it: what the
// tests, the drill command and the operator check a recording with.
type RecordingInfo struct {
	Duration time.Duration // the Segment's Duration element
	Cues     int           // seek index entries
	Tracks   []RecordedTrack
}

// RecordedTrack is one track of a recording.
type RecordedTrack struct {
	Number    uint64
	Codec     string // "V_VP8", "A_OPUS", ...
	Width     int
	Height    int
	Blocks    int
	Keyframes int
	First     time.Duration // timestamp of its first block
	Last      time.Duration // and of its last
	// Ordered: block timestamps never go backwards.
	Ordered bool
	// FirstFrame is the payload of the first block (a keyframe for video).
	FirstFrame []byte
}

// Track returns the first track whose codec id is codec, or nil.
func (i RecordingInfo) Track(codec string) *RecordedTrack {
	for k := range i.Tracks {
		if i.Tracks[k].Codec == codec {
			return &i.Tracks[k]
		}
	}
	return nil
}

// InspectRecording parses a whole WebM file.
func InspectRecording(r io.Reader) (RecordingInfo, error) {
	var doc struct {
		Header  webm.EBMLHeader `ebml:"EBML"`
		Segment webm.Segment    `ebml:"Segment"`
	}
	if err := ebml.Unmarshal(r, &doc); err != nil {
		return RecordingInfo{}, fmt.Errorf("parse webm: %w", err)
	}
	if doc.Header.DocType != "webm" {
		return RecordingInfo{}, fmt.Errorf("doc type %q, not webm", doc.Header.DocType)
	}
	seg := doc.Segment
	scale := time.Duration(seg.Info.TimecodeScale)
	if scale == 0 {
		scale = time.Millisecond
	}
	info := RecordingInfo{Duration: time.Duration(seg.Info.Duration * float64(scale))}
	if seg.Cues != nil {
		info.Cues = len(seg.Cues.CuePoint)
	}
	byNum := map[uint64]int{}
	for _, e := range seg.Tracks.TrackEntry {
		t := RecordedTrack{Number: e.TrackNumber, Codec: e.CodecID, Ordered: true}
		if e.Video != nil {
			t.Width, t.Height = int(e.Video.PixelWidth), int(e.Video.PixelHeight)
		}
		byNum[e.TrackNumber] = len(info.Tracks)
		info.Tracks = append(info.Tracks, t)
	}
	for _, c := range seg.Cluster {
		for _, b := range c.SimpleBlock {
			k, ok := byNum[b.TrackNumber]
			if !ok {
				return info, fmt.Errorf("block of unknown track %d", b.TrackNumber)
			}
			t := &info.Tracks[k]
			at := time.Duration(int64(c.Timecode)+int64(b.Timecode)) * scale
			if t.Blocks == 0 {
				t.First = at
				if len(b.Data) > 0 {
					t.FirstFrame = b.Data[0]
				}
			} else if at < t.Last {
				t.Ordered = false
			}
			t.Last = at
			t.Blocks++
			if b.Keyframe {
				t.Keyframes++
			}
		}
	}
	return info, nil
}
