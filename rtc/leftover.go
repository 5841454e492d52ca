package rtc

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/at-wat/ebml-go"
	"github.com/at-wat/ebml-go/mkvcore"
	"github.com/at-wat/ebml-go/webm"
)

// Recordings left behind: a recording is written to Config.RecordDir as
// the stream goes on and handed over when it ends. When the process dies
// first (a crash, a power cut), the file stays there, without its duration
// and seek index and maybe with a last frame half written. Such a file is
// still named after its stream (RecordingStream), and RepairRecording
// makes a complete file of it, so the application can still attach it.

// recordingPrefix starts the name of every recording file:
// live-<stream id>-<random>.webm.
const recordingPrefix = "live-"

// RecordingStream returns the stream a file in Config.RecordDir was
// recorded from; false when the name is not a recording's.
func RecordingStream(name string) (streamID string, ok bool) {
	rest, ok := strings.CutPrefix(name, recordingPrefix)
	if !ok || !strings.HasSuffix(rest, ".webm") {
		return "", false
	}
	i := strings.LastIndexByte(rest, '-')
	if i <= 0 {
		return "", false
	}
	return rest[:i], true
}

// RepairRecording rewrites the recording at path, which may have been cut
// short, as a complete WebM file (duration, seek index) of every frame that
// was written whole. It reads and writes one frame at a time (a long
// recording is not loaded into memory). It fails, leaving the file as it
// was, when not one frame can be read.
func RepairRecording(path string) (frames int, err error) {
	return JoinRecordings(path, path)
}

// JoinRecordings writes the recordings at parts (each maybe cut short),
// one after the other, as one complete WebM file at path: a stream recorded
// until a crash and again after the restart replays as one. Each part's
// tracks are matched to the first's by codec (a track the first part does
// not have is left out); a part's time starts where the one before ended.
// path may be one of the parts; it is replaced only when all went well.
// It fails when the first part has not one whole frame.
func JoinRecordings(path string, parts ...string) (frames int, err error) {
	if len(parts) == 0 {
		return 0, errors.New("join recordings: no part")
	}
	dst, err := os.CreateTemp(filepath.Dir(path), "repair-*.webm")
	if err != nil {
		return 0, fmt.Errorf("join recordings: %w", err)
	}
	defer os.Remove(dst.Name()) // after the rename, there is none
	j := &recordingJoin{dst: dst}
	for i, part := range parts {
		// A part cut short ends with a read error: its whole frames count.
		n, err := j.add(part)
		if j.writeErr != nil || (i == 0 && n == 0) {
			_ = dst.Close()
			return 0, fmt.Errorf("join recordings: nothing readable in %s (%v)", filepath.Base(part), err)
		}
		frames += n
	}
	if j.writers == nil {
		_ = dst.Close()
		return 0, errors.New("join recordings: nothing readable")
	}
	for _, w := range j.writers {
		_ = w.Close() // the last one closes dst
	}
	if j.writeErr != nil {
		return 0, fmt.Errorf("join recordings: %w", j.writeErr)
	}
	if frames == 0 {
		return 0, errors.New("join recordings: no frame")
	}
	if err := os.Rename(dst.Name(), path); err != nil {
		return 0, fmt.Errorf("join recordings: %w", err)
	}
	return frames, nil
}

// recordingJoin is the file JoinRecordings writes.
type recordingJoin struct {
	dst      *os.File
	entries  []webm.TrackEntry                // the first part's tracks
	writers  map[uint64]webm.BlockWriteCloser // by the first part's track number
	offset   int64                            // ms added to the current part's times
	end      int64                            // the latest time written (ms)
	writeErr error
}

// open starts the file with the first part's tracks.
func (j *recordingJoin) open(header webm.EBMLHeader, tracks webm.Tracks) error {
	if header.DocType != "webm" || len(tracks.TrackEntry) == 0 {
		return errors.New("no webm header or tracks")
	}
	entries := tracks.TrackEntry
	video := uint64(0)
	for _, e := range entries {
		if e.TrackType == 1 {
			video = e.TrackNumber
		}
	}
	info := *webm.DefaultSegmentInfo
	info.MuxingApp, info.WritingApp, info.DateUTC = "salonbase", "salonbase", time.Now()
	opts := []mkvcore.BlockWriterOption{
		mkvcore.WithSegmentInfo(&info),
		mkvcore.WithSeekHead(true),
		mkvcore.WithCues(recordCues),
		mkvcore.WithBlockInterceptor(nil), // the blocks come in file order
		mkvcore.WithOnFatalHandler(func(err error) {
			if j.writeErr == nil {
				j.writeErr = err
			}
		}),
		mkvcore.WithOnErrorHandler(func(error) {}),
	}
	if video > 0 {
		opts = append(opts, mkvcore.WithMinMaxClusterDuration(video, 0, recordCluster))
	}
	ws, err := webm.NewSimpleBlockWriter(j.dst, entries, opts...)
	if err != nil {
		return err
	}
	j.entries, j.writers = entries, map[uint64]webm.BlockWriteCloser{}
	for i, e := range entries {
		j.writers[e.TrackNumber] = ws[i]
	}
	return nil
}

// add writes the whole frames of one part and returns the error its
// reading ended with (a part cut short ends with one).
func (j *recordingJoin) add(part string) (frames int, err error) {
	src, err := os.Open(part)
	if err != nil {
		return 0, err
	}
	defer src.Close()
	// The hooks see each element as soon as it is read whole; the fields
	// below hold only the latest cluster time and block.
	var doc struct {
		Header  webm.EBMLHeader `ebml:"EBML"`
		Segment struct {
			Tracks  webm.Tracks `ebml:"Tracks"`
			Cluster struct {
				Timecode    uint64     `ebml:"Timecode"`
				SimpleBlock ebml.Block `ebml:"SimpleBlock"`
			} `ebml:"Cluster"`
		} `ebml:"Segment"`
	}
	var (
		clusterAt int64
		mapped    map[uint64]webm.BlockWriteCloser // this part's track number → writer
	)
	hook := func(e *ebml.Element) {
		if j.writeErr != nil || e.Parent == nil || e.Parent.Type != ebml.ElementCluster {
			return
		}
		switch e.Type {
		case ebml.ElementTimecode:
			clusterAt = int64(doc.Segment.Cluster.Timecode)
		case ebml.ElementSimpleBlock:
			if mapped == nil {
				if j.writers == nil {
					if j.writeErr = j.open(doc.Header, doc.Segment.Tracks); j.writeErr != nil {
						return
					}
				}
				mapped = j.match(doc.Segment.Tracks.TrackEntry)
			}
			b := doc.Segment.Cluster.SimpleBlock
			w := mapped[b.TrackNumber]
			if w == nil {
				return // a track the first part does not have: not playable
			}
			at := j.offset + clusterAt + int64(b.Timecode)
			for _, data := range b.Data {
				if _, err := w.Write(b.Keyframe, at, data); err != nil {
					j.writeErr = err
					return
				}
				frames++
			}
			j.end = max(j.end, at)
		}
	}
	// A file cut short ends with an error; what was read whole is written.
	readErr := ebml.Unmarshal(src, &doc, ebml.WithElementReadHooks(hook))
	if j.writeErr != nil {
		return frames, j.writeErr
	}
	// The next part follows this one's last frame (one Opus frame later).
	j.offset = j.end + 20
	return frames, readErr
}

// match maps a part's tracks onto the first part's by type and codec.
func (j *recordingJoin) match(entries []webm.TrackEntry) map[uint64]webm.BlockWriteCloser {
	m := map[uint64]webm.BlockWriteCloser{}
	for _, e := range entries {
		for _, first := range j.entries {
			if first.TrackType == e.TrackType && first.CodecID == e.CodecID {
				m[e.TrackNumber] = j.writers[first.TrackNumber]
				break
			}
		}
	}
	return m
}
