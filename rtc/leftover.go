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
	src, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("repair recording: %w", err)
	}
	defer src.Close()
	dst, err := os.CreateTemp(filepath.Dir(path), "repair-*.webm")
	if err != nil {
		return 0, fmt.Errorf("repair recording: %w", err)
	}
	defer os.Remove(dst.Name()) // after the rename, there is none

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
		writers   map[uint64]webm.BlockWriteCloser
		clusterAt int64
		writeErr  error
	)
	open := func() error {
		if doc.Header.DocType != "webm" || len(doc.Segment.Tracks.TrackEntry) == 0 {
			return errors.New("no webm header or tracks")
		}
		entries := doc.Segment.Tracks.TrackEntry
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
				if writeErr == nil {
					writeErr = err
				}
			}),
			mkvcore.WithOnErrorHandler(func(error) {}),
		}
		if video > 0 {
			opts = append(opts, mkvcore.WithMinMaxClusterDuration(video, 0, recordCluster))
		}
		ws, err := webm.NewSimpleBlockWriter(dst, entries, opts...)
		if err != nil {
			return err
		}
		writers = map[uint64]webm.BlockWriteCloser{}
		for i, e := range entries {
			writers[e.TrackNumber] = ws[i]
		}
		return nil
	}
	hook := func(e *ebml.Element) {
		if writeErr != nil || e.Parent == nil || e.Parent.Type != ebml.ElementCluster {
			return
		}
		switch e.Type {
		case ebml.ElementTimecode:
			clusterAt = int64(doc.Segment.Cluster.Timecode)
		case ebml.ElementSimpleBlock:
			if writers == nil {
				if writeErr = open(); writeErr != nil {
					return
				}
			}
			b := doc.Segment.Cluster.SimpleBlock
			w := writers[b.TrackNumber]
			if w == nil {
				return // a track the header does not name: not playable
			}
			for _, data := range b.Data {
				if _, err := w.Write(b.Keyframe, clusterAt+int64(b.Timecode), data); err != nil {
					writeErr = err
					return
				}
				frames++
			}
		}
	}
	// A file cut short ends with an error; what was read whole is written.
	readErr := ebml.Unmarshal(src, &doc, ebml.WithElementReadHooks(hook))
	if writers == nil {
		_ = dst.Close()
		if writeErr == nil {
			writeErr = readErr
		}
		return 0, fmt.Errorf("repair recording: nothing readable (%v)", writeErr)
	}
	for _, w := range writers {
		_ = w.Close() // the last one closes dst
	}
	if writeErr != nil {
		return 0, fmt.Errorf("repair recording: %w", writeErr)
	}
	if frames == 0 {
		return 0, errors.New("repair recording: no frame")
	}
	if err := os.Rename(dst.Name(), path); err != nil {
		return 0, fmt.Errorf("repair recording: %w", err)
	}
	return frames, nil
}
