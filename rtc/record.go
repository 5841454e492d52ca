package rtc

import (
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/at-wat/ebml-go/mkvcore"
	"github.com/at-wat/ebml-go/webm"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media/samplebuilder"
)

// Recording: a live stream whose publisher's Grant has Record set is
// written to a WebM file as it is forwarded (no transcoding). Each
// forwarder hands a copy of every packet it forwards to a recordSink
// (never blocking the forward path: a full queue drops the packet, which
// the sample builder then treats as loss); one goroutine per stream puts
// the packets back in order, joins them into frames and muxes them. When
// the stream ends the file is handed to Events.StreamRecorded.
//
// WebM carries VP8, VP9 and Opus (AV1 would need its codec configuration
// record, H264 is not WebM): a stream whose video is anything else (OBS
// sends H264) is not recorded.

const (
	recordQueue    = 4096            // packets waiting for the muxer, per stream
	recordMaxLate  = 512             // packets the sample builder waits for a late one
	recordSyncWait = 6 * time.Second // longest wait for every track's sender report
	recordPending  = 3000            // frames per track held back until then
	recordCues     = 256 << 10       // bytes reserved for the seek index
	recordCluster  = 5000            // ms: longest cluster (seek granularity)
	recordHold     = 150             // frames one track may get ahead of a silent other
)

// recordSink is a forwarder's link to the stream's recorder.
type recordSink struct {
	rec   *recorder
	track int
}

// push queues a copy of pkt (the forwarder reuses its buffer).
func (k *recordSink) push(pkt *rtp.Packet) {
	p := &rtp.Packet{Header: pkt.Header.Clone(), Payload: append([]byte(nil), pkt.Payload...)}
	select {
	case k.rec.in <- recordItem{track: k.track, pkt: p, at: time.Now()}:
	default:
		k.rec.dropped.Add(1)
	}
}

// senderReport queues a publisher's sender report, its RTP time already
// mapped onto the forwarded timeline.
func (k *recordSink) senderReport(ntp uint64, rtpTime uint32) {
	select {
	case k.rec.in <- recordItem{track: k.track, sr: true, ntp: ntp, rtpTime: rtpTime, at: time.Now()}:
	default:
	}
}

type recordItem struct {
	track   int
	pkt     *rtp.Packet
	sr      bool
	ntp     uint64
	rtpTime uint32
	at      time.Time
}

// recorder writes one stream's tracks to one WebM file.
type recorder struct {
	path    string
	file    *os.File
	tracks  []*recTrack
	in      chan recordItem
	addc    chan *forwarder // tracks that arrived after the stream went live
	stop    chan struct{}
	done    chan struct{}
	dropped atomic.Uint64
	err     error // the first write error (set by run)
	frames  int   // frames written (set by run)
}

// recTrack is the state of one recorded track (owned by run).
type recTrack struct {
	f       *forwarder
	video   bool
	mime    string
	clock   uint32
	sb      *samplebuilder.SampleBuilder
	keyTS   map[uint32]bool // RTP timestamps of frames that start with a keyframe
	needKey bool            // video: frames are skipped until a keyframe
	width   int
	height  int

	ext     extTS // unwraps RTP timestamps to 64 bits
	firstAt time.Time
	firstTS int64 // the first packet's unwrapped timestamp

	hasSR  bool
	srNTP  uint64
	srTS   int64
	anchor anchor // maps timestamps onto the common clock, once synced

	pending []recFrame
	writer  webm.BlockWriteCloser
	lastMS  int64
}

type recFrame struct {
	ts  int64
	key bool
	buf []byte
}

// anchor: a track's timestamp ts is at  at + (ts - ts0)/clock  on the
// common clock (seconds).
type anchor struct {
	at  float64
	ts0 int64
}

// extTS unwraps 32-bit RTP timestamps (a 90 kHz clock wraps in 13 hours).
type extTS struct {
	started bool
	last    uint32
	high    int64
}

func (e *extTS) unwrap(ts uint32) int64 {
	if !e.started {
		e.started, e.last = true, ts
		return int64(ts)
	}
	d := int32(ts - e.last)
	if d > 0 && ts < e.last {
		e.high += 1 << 32
	} else if d < 0 && ts > e.last {
		return e.high - 1<<32 + int64(ts)
	}
	if d > 0 {
		e.last = ts
	}
	return e.high + int64(ts)
}

// recordable says whether WebM can carry a track of this codec.
func recordable(c webrtc.RTPCodecCapability) bool {
	for _, m := range []string{webrtc.MimeTypeVP8, webrtc.MimeTypeVP9, webrtc.MimeTypeOpus} {
		if strings.EqualFold(c.MimeType, m) {
			return true
		}
	}
	return false
}

// newRecorder starts recording tracks into a new file in dir. It returns
// nil and no error when a video track's codec cannot be recorded.
func newRecorder(dir string, tracks []*forwarder) (*recorder, error) {
	r := &recorder{
		in:   make(chan recordItem, recordQueue),
		addc: make(chan *forwarder, 4),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	for _, f := range tracks {
		if !recordable(f.codec) {
			if f.kind == webrtc.RTPCodecTypeVideo {
				return nil, nil
			}
			continue // an audio codec WebM cannot carry: record the picture
		}
		r.tracks = append(r.tracks, newRecTrack(f))
	}
	if len(r.tracks) == 0 {
		return nil, nil
	}
	file, err := os.CreateTemp(dir, "live-*.webm")
	if err != nil {
		return nil, fmt.Errorf("recording file: %w", err)
	}
	r.file, r.path = file, file.Name()
	for i, t := range r.tracks {
		t.f.rec.Store(&recordSink{rec: r, track: i})
	}
	go r.run()
	return r, nil
}

func newRecTrack(f *forwarder) *recTrack {
	t := &recTrack{f: f, video: f.kind == webrtc.RTPCodecTypeVideo, mime: f.codec.MimeType,
		clock: f.codec.ClockRate, keyTS: map[uint32]bool{}, needKey: true}
	var dep rtp.Depacketizer
	switch {
	case strings.EqualFold(t.mime, webrtc.MimeTypeVP8):
		dep = &codecs.VP8Packet{}
	case strings.EqualFold(t.mime, webrtc.MimeTypeVP9):
		dep = &codecs.VP9Packet{}
	default:
		dep, t.needKey = &codecs.OpusPacket{}, false
	}
	t.sb = samplebuilder.New(recordMaxLate, dep, t.clock)
	return t
}

// add records a track that arrived after the stream went live (its
// publisher's video started late): taken until the file is opened.
func (r *recorder) add(f *forwarder) {
	if !recordable(f.codec) {
		return
	}
	select {
	case r.addc <- f:
	default:
	}
}

// finish stops recording and closes the file; the caller owns it then.
// frames is 0 when nothing could be written (the file is removed).
func (r *recorder) finish() (path string, frames int, err error) {
	close(r.stop)
	<-r.done
	for _, t := range r.tracks {
		t.f.rec.Store(nil)
	}
	if r.err == nil && r.frames == 0 {
		r.err = errors.New("no frame was recorded")
	}
	if r.err != nil {
		_ = os.Remove(r.path)
		return "", 0, r.err
	}
	return r.path, r.frames, nil
}

// run reads the queue until finish, then flushes every track.
func (r *recorder) run() {
	defer close(r.done)
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	synced := false
	var started time.Time
	for {
		select {
		case it := <-r.in:
			if started.IsZero() {
				started = it.at
			}
			r.take(it)
		case f := <-r.addc:
			if !synced {
				r.tracks = append(r.tracks, newRecTrack(f))
				f.rec.Store(&recordSink{rec: r, track: len(r.tracks) - 1})
			}
		case <-tick.C:
			// Video starts (and resumes after a loss) at a keyframe: a
			// publisher sends one only when asked (viewers ask as they join,
			// but a recording may have none).
			for _, t := range r.tracks {
				if t.video && t.needKey {
					t.f.requestKeyframe()
				}
			}
		case <-r.stop:
			for draining := true; draining; {
				select {
				case it := <-r.in:
					r.take(it)
				default:
					draining = false
				}
			}
			for _, t := range r.tracks {
				t.sb.Flush()
				r.popFrames(t)
			}
			if !synced {
				r.sync()
			}
			r.writePending(true)
			r.close()
			return
		}
		if !synced && !started.IsZero() && r.ready(time.Since(started) > recordSyncWait) {
			r.sync()
			synced = true
		}
		if synced {
			r.writePending(false)
		}
	}
}

func (r *recorder) take(it recordItem) {
	t := r.tracks[it.track]
	if it.sr {
		if !t.hasSR && t.ext.started {
			t.hasSR, t.srNTP, t.srTS = true, it.ntp, t.ext.unwrap(it.rtpTime)
		}
		return
	}
	ts := t.ext.unwrap(it.pkt.Timestamp)
	if t.firstAt.IsZero() {
		t.firstAt, t.firstTS = it.at, ts
	}
	if t.video && isKeyframeStart(t.mime, it.pkt.Payload) {
		t.keyTS[it.pkt.Timestamp] = true
	}
	t.sb.Push(it.pkt)
	r.popFrames(t)
}

// popFrames moves t's complete frames to its pending list. After a loss,
// video waits for the next keyframe (asked for) so no frame in the file
// refers to one that is missing.
func (r *recorder) popFrames(t *recTrack) {
	for s := t.sb.Pop(); s != nil; s = t.sb.Pop() {
		key := t.keyTS[s.PacketTimestamp]
		delete(t.keyTS, s.PacketTimestamp)
		if t.video {
			if s.PrevDroppedPackets > 0 && !t.needKey {
				t.needKey = true
				t.f.requestKeyframe()
			}
			if t.needKey && !key {
				continue
			}
			if key {
				t.needKey = false
				if t.width == 0 {
					t.width, t.height = frameSize(t.mime, s.Data)
				}
			}
		}
		t.pending = append(t.pending, recFrame{ts: t.ext.unwrap(s.PacketTimestamp), key: key || !t.video, buf: s.Data})
		if len(t.pending) > recordPending {
			t.pending = t.pending[1:] // never synced: keep the newest
		}
	}
	if len(t.keyTS) > 64 { // timestamps of frames the builder dropped
		clear(t.keyTS)
	}
}

// ready: every track has a sender report and video a keyframe, or the
// wait is over and every track that has media has one frame.
func (r *recorder) ready(late bool) bool {
	for _, t := range r.tracks {
		if late && t.firstAt.IsZero() {
			continue // no media on this track (yet): record the others
		}
		if t.video && t.width == 0 {
			return false
		}
		if !t.hasSR && !late {
			return false
		}
	}
	return true
}

// sync puts every track on one clock and opens the muxer. With a sender
// report for every track, the publisher's own clock (NTP time of the RTP
// timestamps) aligns audio and video as captured; otherwise each track's
// first packet is placed at its arrival on the server's clock.
func (r *recorder) sync() {
	allSR := true
	for _, t := range r.tracks {
		allSR = allSR && t.hasSR
	}
	for _, t := range r.tracks {
		if allSR {
			t.anchor = anchor{at: ntpSeconds(t.srNTP), ts0: t.srTS}
		} else {
			t.anchor = anchor{at: float64(t.firstAt.UnixNano()) / 1e9, ts0: t.firstTS}
		}
	}
	var entries []webm.TrackEntry
	var with []*recTrack
	video := uint64(0)
	for _, t := range r.tracks {
		if len(t.pending) == 0 && t.firstAt.IsZero() {
			continue // no media at all: leave it out of the file
		}
		n := uint64(len(entries) + 1)
		e := webm.TrackEntry{Name: t.f.kind.String(), TrackNumber: n, TrackUID: n}
		if t.video {
			if t.width == 0 {
				continue // never a keyframe
			}
			video = n
			e.CodecID, e.TrackType = "V_"+strings.ToUpper(strings.TrimPrefix(t.mime, "video/")), 1
			e.Video = &webm.Video{PixelWidth: uint64(t.width), PixelHeight: uint64(t.height)}
		} else {
			e.CodecID, e.TrackType = "A_OPUS", 2
			e.CodecPrivate = opusHead(t.f.codec.Channels)
			e.SeekPreRoll = 80_000_000 // ns, as the WebM spec asks for Opus
			e.Audio = &webm.Audio{SamplingFrequency: 48000, Channels: uint64(max(t.f.codec.Channels, 1))}
		}
		entries = append(entries, e)
		with = append(with, t)
	}
	if len(entries) == 0 {
		return
	}
	info := *webm.DefaultSegmentInfo
	info.MuxingApp, info.WritingApp, info.DateUTC = "salonbase", "salonbase", time.Now()
	opts := []mkvcore.BlockWriterOption{
		mkvcore.WithSegmentInfo(&info),
		mkvcore.WithSeekHead(true),
		mkvcore.WithCues(recordCues),
		// writePending hands the frames over in order across tracks.
		mkvcore.WithBlockInterceptor(nil),
		mkvcore.WithOnFatalHandler(func(err error) { r.fail(err) }),
		mkvcore.WithOnErrorHandler(func(error) {}), // a frame too late to sort: dropped
	}
	if video > 0 {
		opts = append(opts, mkvcore.WithMinMaxClusterDuration(video, 0, recordCluster))
	}
	ws, err := webm.NewSimpleBlockWriter(r.file, entries, opts...)
	if err != nil {
		r.fail(fmt.Errorf("webm writer: %w", err))
		return
	}
	for i, t := range with {
		t.writer = ws[i]
	}
	// The file starts with the picture: sound from before the first
	// keyframe would play over nothing.
	for _, v := range with {
		if !v.video || len(v.pending) == 0 {
			continue
		}
		first := v.seconds(v.pending[0].ts)
		for _, t := range with {
			for !t.video && len(t.pending) > 0 && t.seconds(t.pending[0].ts) < first-0.010 {
				t.pending = t.pending[1:]
			}
		}
	}
	// The file starts with the earliest frame of any track.
	origin := 0.0
	for _, t := range with {
		if len(t.pending) > 0 {
			if at := t.seconds(t.pending[0].ts); origin == 0 || at < origin {
				origin = at
			}
		}
	}
	for _, t := range with {
		t.anchor.at -= origin
	}
	r.writePending(false)
}

// seconds is a timestamp on the common clock.
func (t *recTrack) seconds(ts int64) float64 {
	return t.anchor.at + float64(ts-t.anchor.ts0)/float64(t.clock)
}

// writePending writes the frames waiting on every track, oldest first
// across tracks. Until final, it waits while a track has none: its next
// frame may be older than the others' (unless that track fell silent and
// the others have recordHold frames waiting).
func (r *recorder) writePending(final bool) {
	for {
		var next *recTrack
		waiting, most := false, 0
		for _, t := range r.tracks {
			if t.writer == nil {
				continue
			}
			most = max(most, len(t.pending))
			if len(t.pending) == 0 {
				waiting = true
				continue
			}
			if next == nil || t.seconds(t.pending[0].ts) < next.seconds(next.pending[0].ts) {
				next = t
			}
		}
		if next == nil || (waiting && !final && most < recordHold) {
			return
		}
		fr := next.pending[0]
		next.pending = next.pending[1:]
		ms := int64(math.Round(next.seconds(fr.ts) * 1000))
		if ms < next.lastMS {
			ms = next.lastMS // never backwards within a track
		}
		next.lastMS = ms
		if r.err != nil {
			continue
		}
		if _, err := next.writer.Write(fr.key, ms, fr.buf); err != nil {
			r.fail(err)
			continue
		}
		r.frames++
	}
}

func (r *recorder) fail(err error) {
	if r.err == nil {
		r.err = fmt.Errorf("recording: %w", err)
	}
}

// close finishes the muxer (it writes the duration and the seek index and
// closes the file) or, without one, the bare file.
func (r *recorder) close() {
	var open []webm.BlockWriteCloser
	for _, t := range r.tracks {
		if t.writer != nil {
			open = append(open, t.writer)
		}
	}
	if len(open) == 0 {
		_ = r.file.Close()
		return
	}
	for _, w := range open {
		_ = w.Close()
	}
}

// ntpSeconds converts a 64-bit NTP timestamp to seconds.
func ntpSeconds(ntp uint64) float64 {
	return float64(ntp>>32) + float64(ntp&0xffffffff)/(1<<32)
}

// opusHead is the Opus identification header WebM keeps as CodecPrivate
// (RFC 7845 5.1): version 1, channels, no pre-skip, 48 kHz, no gain,
// channel mapping family 0.
func opusHead(channels uint16) []byte {
	ch := byte(max(channels, 1))
	return []byte{'O', 'p', 'u', 's', 'H', 'e', 'a', 'd', 1, ch, 0, 0, 0x80, 0xbb, 0, 0, 0, 0, 0}
}

// frameSize reads the picture size from a keyframe (VP8: RFC 6386 9.1;
// VP9: the uncompressed header of profile 0). 0, 0 when it cannot.
func frameSize(mime string, b []byte) (w, h int) {
	switch {
	case strings.EqualFold(mime, webrtc.MimeTypeVP8):
		if len(b) < 10 || b[3] != 0x9d || b[4] != 0x01 || b[5] != 0x2a {
			return 0, 0
		}
		return int(b[6]) | int(b[7]&0x3f)<<8, int(b[8]) | int(b[9]&0x3f)<<8
	case strings.EqualFold(mime, webrtc.MimeTypeVP9):
		br := bitReader{b: b}
		if br.read(2) != 2 { // frame marker
			return 0, 0
		}
		profile := br.read(1) | br.read(1)<<1
		if profile == 3 {
			br.read(1)
		}
		if br.read(1) == 1 || br.read(1) != 0 { // show_existing_frame; frame_type 0 = key
			return 0, 0
		}
		br.read(2) // show_frame, error_resilient_mode
		if br.read(24) != 0x498342 {
			return 0, 0
		}
		if profile >= 2 {
			br.read(1) // ten_or_twelve_bit
		}
		if cs := br.read(3); cs != 7 { // color space other than sRGB
			br.read(1) // color range
			if profile == 1 || profile == 3 {
				br.read(3)
			}
		} else if profile == 1 || profile == 3 {
			br.read(1)
		}
		w, h := br.read(16)+1, br.read(16)+1
		if br.over {
			return 0, 0
		}
		return int(w), int(h)
	}
	return 0, 0
}

type bitReader struct {
	b    []byte
	pos  int
	over bool
}

func (r *bitReader) read(n int) uint32 {
	var v uint32
	for range n {
		if r.pos/8 >= len(r.b) {
			r.over = true
			return 0
		}
		v = v<<1 | uint32(r.b[r.pos/8]>>(7-r.pos%8)&1)
		r.pos++
	}
	return v
}

// senderReport passes a publisher's sender report for this forwarder's
// input on to the recorder, its RTP time mapped like the forwarded packets.
func (f *forwarder) senderReport(sr *rtcp.SenderReport) {
	sink := f.rec.Load()
	if sink == nil {
		return
	}
	f.mu.Lock()
	ok := f.ssrc == sr.SSRC && f.munger.started && !f.munger.pending
	ts := sr.RTPTime + f.munger.tsOff
	f.mu.Unlock()
	if ok {
		sink.senderReport(sr.NTPTime, ts)
	}
}

// readPublisherRTCP reads a publisher's RTCP for one receiver (so the
// interceptors see it and the buffer never fills) and hands sender
// reports to the stream's tracks (the recording aligns audio and video
// with them).
func (s *Server) readPublisherRTCP(recv *webrtc.RTPReceiver, st *stream) {
	for {
		pkts, _, err := recv.ReadRTCP()
		if err != nil {
			return
		}
		for _, p := range pkts {
			sr, ok := p.(*rtcp.SenderReport)
			if !ok {
				continue
			}
			s.mu.Lock()
			tracks := append([]*forwarder(nil), st.tracks...)
			s.mu.Unlock()
			for _, f := range tracks {
				f.senderReport(sr)
			}
		}
	}
}

// startRecording records st if its publisher's grant asks for it and the
// application takes recordings. Called with s.mu held, once, as st goes live.
func (s *Server) startRecording(st *stream) {
	if st.pub == nil || !st.pub.grant.Record || s.events.StreamRecorded == nil || st.rec != nil {
		return
	}
	if len(st.simulcast) > 0 {
		// The recorder takes forwarded tracks; a simulcast video has a
		// track per viewer. The web client sends a recorded stream in one
		// layer; a publisher that sends layers anyway is not recorded.
		s.log.Warn("rtc stream not recorded: its video is simulcast", "stream", st.id)
		return
	}
	rec, err := newRecorder(s.cfg.RecordDir, st.tracks)
	if err != nil {
		s.log.Error("rtc recording not started", "stream", st.id, "error", err)
		return
	}
	if rec == nil {
		s.log.Warn("rtc stream not recorded: WebM cannot carry its video codec", "stream", st.id)
		return
	}
	st.rec = rec
}

// recordTrack adds a track that arrived after st went live to its
// recording. Called with s.mu held.
func (s *Server) recordTrack(st *stream, f *forwarder) {
	if st.rec != nil {
		st.rec.add(f)
	}
}

// finishRecording closes st's recording (called once the stream has ended,
// without s.mu) and hands the file to the application.
func (s *Server) finishRecording(st *stream, rec *recorder) {
	path, frames, err := rec.finish()
	if n := rec.dropped.Load(); n > 0 {
		s.log.Warn("rtc recording queue overflowed", "stream", st.id, "packets", n)
	}
	if err != nil {
		s.log.Error("rtc recording failed", "stream", st.id, "error", err)
		return
	}
	s.log.Debug("rtc recording finished", "stream", st.id, "frames", frames)
	fn := s.events.StreamRecorded
	s.emit(func() { fn(st.id, path) })
}
