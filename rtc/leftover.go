package rtc

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
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
// until a crash and again after the restart replays as one. The file has
// the tracks of every part, matched by type and codec (a host who went on
// air with audio only and added the camera after the restart keeps the
// video); a part's time starts where the one before ended.
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
	// The tracks first: the file's header lists them before any frame.
	for _, part := range parts {
		header, tracks, err := readTracks(part)
		if err == nil {
			j.addTracks(header, tracks)
		}
	}
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
	header   webm.EBMLHeader                  // the first part's
	entries  []webm.TrackEntry                // every part's tracks, the first part's first
	writers  map[uint64]webm.BlockWriteCloser // by track number in entries
	offset   int64                            // ms added to the current part's times
	end      int64                            // the latest time written (ms)
	writeErr error
}

// readTracks reads a part's header and tracks (the start of the file).
func readTracks(part string) (webm.EBMLHeader, []webm.TrackEntry, error) {
	var doc struct {
		Header  webm.EBMLHeader `ebml:"EBML"`
		Segment struct {
			Tracks webm.Tracks `ebml:"Tracks"`
		} `ebml:"Segment"`
	}
	src, err := os.Open(part)
	if err != nil {
		return doc.Header, nil, err
	}
	defer src.Close()
	// Stop reading once the tracks are in: the frames follow.
	r := &stopReader{r: src}
	_ = ebml.Unmarshal(r, &doc, ebml.WithElementReadHooks(func(e *ebml.Element) {
		if e.Type == ebml.ElementTracks {
			r.stop = true
		}
	}))
	if doc.Header.DocType != "webm" || len(doc.Segment.Tracks.TrackEntry) == 0 {
		return doc.Header, nil, errors.New("no webm header or tracks")
	}
	return doc.Header, doc.Segment.Tracks.TrackEntry, nil
}

// stopReader reads until stop is set.
type stopReader struct {
	r    io.Reader
	stop bool
}

func (s *stopReader) Read(p []byte) (int, error) {
	if s.stop {
		return 0, io.EOF
	}
	return s.r.Read(p)
}

// addTracks adds a part's tracks that no part before had, numbered after
// those.
func (j *recordingJoin) addTracks(header webm.EBMLHeader, tracks []webm.TrackEntry) {
	if len(j.entries) == 0 {
		j.header = header
	}
	for _, e := range tracks {
		if slices.ContainsFunc(j.entries, func(u webm.TrackEntry) bool { return sameTrack(u, e) }) {
			continue
		}
		if len(j.entries) > 0 {
			last := slices.MaxFunc(j.entries, func(a, b webm.TrackEntry) int { return cmp.Compare(a.TrackNumber, b.TrackNumber) })
			e.TrackNumber, e.TrackUID = last.TrackNumber+1, last.TrackNumber+1
			for slices.ContainsFunc(j.entries, func(u webm.TrackEntry) bool { return u.TrackUID == e.TrackUID }) {
				e.TrackUID++
			}
		}
		j.entries = append(j.entries, e)
	}
}

// sameTrack: a part's track continues another part's (same type and codec).
func sameTrack(a, b webm.TrackEntry) bool {
	return a.TrackType == b.TrackType && a.CodecID == b.CodecID
}

// open starts the file with every part's tracks.
func (j *recordingJoin) open() error {
	if j.header.DocType != "webm" || len(j.entries) == 0 {
		return errors.New("no webm header or tracks")
	}
	entries := j.entries
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
	j.writers = map[uint64]webm.BlockWriteCloser{}
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
					if j.writeErr = j.open(); j.writeErr != nil {
						return
					}
				}
				mapped = j.match(doc.Segment.Tracks.TrackEntry)
			}
			b := doc.Segment.Cluster.SimpleBlock
			w := mapped[b.TrackNumber]
			if w == nil {
				return // a track whose header could not be read
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

// match maps a part's tracks onto the file's by type and codec.
func (j *recordingJoin) match(entries []webm.TrackEntry) map[uint64]webm.BlockWriteCloser {
	m := map[uint64]webm.BlockWriteCloser{}
	for _, e := range entries {
		for _, u := range j.entries {
			if sameTrack(u, e) {
				m[e.TrackNumber] = j.writers[u.TrackNumber]
				break
			}
		}
	}
	return m
}
