// Package rtctest has real Pion WebRTC clients for tests of the media
// server: a WHIP publisher sending real VP8 (from a small libvpx-made IVF
// file) and Opus, and WHEP/call subscribers that reassemble and decode the
// video they receive.
package rtctest

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"image"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
	"github.com/pion/webrtc/v4/pkg/media/ivfreader"
	"github.com/pion/webrtc/v4/pkg/media/samplebuilder"
	"golang.org/x/image/vp8"
)

//go:embed testdata/moving-64x64.ivf
var ivf []byte

// OpusSilence is a complete Opus packet (TOC 0xf8: CELT, fullband, 20 ms,
// one frame) that decodes to silence.
var OpusSilence = []byte{0xf8, 0xff, 0xfe}

// VideoFrames returns the VP8 frames of the test clip; frame 0 is a keyframe.
func VideoFrames(t testing.TB) [][]byte {
	t.Helper()
	r, _, err := ivfreader.NewWith(bytes.NewReader(ivf))
	if err != nil {
		t.Fatalf("ivf: %v", err)
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

// ExpectedLuma is the luma the clip's frame 0 was made from.
func ExpectedLuma(row, col int) int { return 16 + ((row+col)%64)*3 }

// NewPeerConnection is a client peer connection with Pion's default codecs
// and interceptors, loopback candidates and no mDNS (tests run on loopback).
func NewPeerConnection(t testing.TB) *webrtc.PeerConnection {
	t.Helper()
	return NewPeerConnectionWith(t, Options{})
}

// Options change how a test client connects.
type Options struct {
	// Networks: the client's candidates (default: IPv4 only).
	Networks []webrtc.NetworkType
	// ICEServers and Relay (iceTransportPolicy "relay": TURN only).
	ICEServers []webrtc.ICEServer
	Relay      bool
	// DownlinkLimit (bits/s, 0: none) polices what the client receives
	// like a slow access link: RTP beyond the rate (a 50 ms burst) is
	// dropped before the client's congestion control feedback sees it.
	DownlinkLimit *atomic.Int64

	stamp *ridStamper // a simulcast publisher's layers
}

// NewPeerConnectionWith is NewPeerConnection with options.
func NewPeerConnectionWith(t testing.TB, o Options) *webrtc.PeerConnection {
	t.Helper()
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	ir := &interceptor.Registry{}
	if o.stamp != nil {
		ir.Add(o.stamp)
	}
	if o.DownlinkLimit != nil {
		ir.Add(&policerFactory{limit: o.DownlinkLimit}) // first: it sees packets before the others
	}
	if err := webrtc.RegisterDefaultInterceptors(m, ir); err != nil {
		t.Fatal(err)
	}
	// Like a browser: stamp sent packets with a transport-wide sequence
	// number, so the server can send congestion control feedback.
	if err := webrtc.ConfigureTWCCHeaderExtensionSender(m, ir); err != nil {
		t.Fatal(err)
	}
	var s webrtc.SettingEngine
	s.SetIncludeLoopbackCandidate(true)
	s.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	if o.Networks == nil {
		o.Networks = []webrtc.NetworkType{webrtc.NetworkTypeUDP4}
	}
	s.SetNetworkTypes(o.Networks)
	if slices.Contains(o.Networks, webrtc.NetworkTypeUDP4) {
		s.SetInterfaceFilter(func(name string) bool { return name == "lo" || strings.HasPrefix(name, "lo") })
	}
	// IPv6 only: ICE never offers ::1, so the host's own global IPv6
	// addresses are used (packets between them stay in the host).
	api := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(s))
	cfg := webrtc.Configuration{ICEServers: o.ICEServers}
	if o.Relay {
		cfg.ICETransportPolicy = webrtc.ICETransportPolicyRelay
	}
	pc, err := api.NewPeerConnection(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return pc
}

// Result is the answer of an offer POST.
type Result struct {
	Status   int
	Body     string
	Location string
	Header   http.Header
}

// PostOffer sends pc's offer (after gathering) to url and, on 201, applies
// the answer.
func PostOffer(t testing.TB, pc *webrtc.PeerConnection, url, token string) Result {
	t.Helper()
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-gathered
	res := Post(t, url, token, "application/sdp", pc.LocalDescription().SDP)
	if res.Status == http.StatusCreated {
		if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: res.Body}); err != nil {
			t.Fatalf("answer from %s: %v", url, err)
		}
	}
	return res
}

// Post sends body to url.
func Post(t testing.TB, url, token, contentType, body string) Result {
	t.Helper()
	return Do(t, http.MethodPost, url, token, contentType, body)
}

// Do sends one request.
func Do(t testing.TB, method, url, token, contentType, body string) Result {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return Result{Status: res.StatusCode, Body: string(b), Location: res.Header.Get("Location"), Header: res.Header}
}

// Publisher sends the test clip (looped, 30 fps) and Opus silence (50/s)
// once connected, restarting the clip at its keyframe on each PLI.
type Publisher struct {
	PC     *webrtc.PeerConnection
	Result Result
	plis   atomic.Int64
	frames atomic.Int64 // video frames sent (a busy machine's ticker skips ticks)
	// Congestion control feedback received from the server.
	twccReports, twccAcked atomic.Int64
	remb                   atomic.Uint64 // the last REMB bitrate (bits/s)
	stop                   chan struct{}
	once                   sync.Once
	wg                     sync.WaitGroup
}

// NewPublisher makes the offer side of a publisher without sending it.
func NewPublisher(t testing.TB) *Publisher {
	t.Helper()
	return newPublisher(t, nil)
}

// SimulcastLayers are the layers a simulcast test publisher sends (RIDs,
// lowest first) and the zero bytes each appends to every frame of the
// clip, which make the layers' bitrates about 30, 130 and 400 kbit/s, a
// step of 3–4× as between a browser's 180p/360p/720p layers (a VP8 decoder
// ignores bytes after a frame's last partition). Small, so that tests
// under the race detector on a busy machine keep up.
var SimulcastLayers = []struct {
	RID string
	Pad int
}{{"q", 0}, {"h", 400}, {"f", 1500}}

// NewSimulcastPublisher is NewPublisher sending its video in the three
// SimulcastLayers (one m-line with three RTP stream ids, as Chrome does
// with sendEncodings).
func NewSimulcastPublisher(t testing.TB) *Publisher {
	t.Helper()
	return newPublisher(t, SimulcastLayers)
}

// PublishSimulcast connects a simulcast publisher to a WHIP url.
func PublishSimulcast(t testing.TB, url, token string) *Publisher {
	t.Helper()
	p := NewSimulcastPublisher(t)
	p.Result = PostOffer(t, p.PC, url, token)
	return p
}

func newPublisher(t testing.TB, layers []struct {
	RID string
	Pad int
}) *Publisher {
	var o Options
	stamp := &ridStamper{}
	if layers != nil {
		o.stamp = stamp
	}
	pc := NewPeerConnectionWith(t, o)
	p := &Publisher{PC: pc, stop: make(chan struct{})}
	vp8 := webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8}
	var videos []*webrtc.TrackLocalStaticSample
	var pads []int
	if layers == nil {
		video, err := webrtc.NewTrackLocalStaticSample(vp8, "video", "cam")
		if err != nil {
			t.Fatal(err)
		}
		videos, pads = append(videos, video), append(pads, 0)
	}
	for _, l := range layers {
		video, err := webrtc.NewTrackLocalStaticSample(vp8, "video", "cam", webrtc.WithRTPStreamID(l.RID))
		if err != nil {
			t.Fatal(err)
		}
		videos, pads = append(videos, video), append(pads, l.Pad)
	}
	audio, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus}, "audio", "cam")
	if err != nil {
		t.Fatal(err)
	}
	frames := VideoFrames(t)
	var restart atomic.Bool
	for _, tr := range []webrtc.TrackLocal{videos[0], audio} {
		tc, err := pc.AddTransceiverFromTrack(tr, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		if err != nil {
			t.Fatal(err)
		}
		if tr == videos[0] && layers != nil {
			for _, more := range videos[1:] {
				if err := tc.Sender().AddEncoding(more); err != nil {
					t.Fatal(err)
				}
			}
			for _, enc := range tc.Sender().GetParameters().Encodings {
				stamp.tr.Store(uint32(enc.SSRC), tc)
				stamp.rid.Store(uint32(enc.SSRC), enc.RID)
			}
		}
	}
	type rtcpRead func() ([]rtcp.Packet, interceptor.Attributes, error)
	var reads []rtcpRead
	for _, tr := range pc.GetTransceivers() {
		sender := tr.Sender()
		reads = append(reads, sender.ReadRTCP)
		if tr.Kind() != webrtc.RTPCodecTypeVideo {
			continue
		}
		for _, l := range layers[min(1, len(layers)):] {
			reads = append(reads, func() ([]rtcp.Packet, interceptor.Attributes, error) { return sender.ReadSimulcastRTCP(l.RID) })
		}
	}
	for _, read := range reads {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			for {
				pkts, _, err := read()
				if err != nil {
					return
				}
				for _, pk := range pkts {
					switch pk := pk.(type) {
					case *rtcp.PictureLossIndication:
						p.plis.Add(1)
						restart.Store(true)
					case *rtcp.TransportLayerCC:
						p.twccReports.Add(1)
						p.twccAcked.Add(int64(len(pk.RecvDeltas)))
					case *rtcp.ReceiverEstimatedMaximumBitrate:
						p.remb.Store(uint64(pk.Bitrate))
					}
				}
			}
		}()
	}
	connected := make(chan struct{})
	var co sync.Once
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected {
			co.Do(func() { close(connected) })
		}
	})
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		select {
		case <-connected:
		case <-p.stop:
			return
		}
		vt := time.NewTicker(time.Second / 30)
		at := time.NewTicker(20 * time.Millisecond)
		defer vt.Stop()
		defer at.Stop()
		i := 0
		for {
			select {
			case <-p.stop:
				return
			case <-vt.C:
				if restart.Swap(false) {
					i = 0
				}
				for k, video := range videos {
					data := frames[i%len(frames)]
					if pads[k] > 0 {
						data = append(data[:len(data):len(data)], make([]byte, pads[k])...)
					}
					_ = video.WriteSample(media.Sample{Data: data, Duration: time.Second / 30})
				}
				i++
				p.frames.Add(1)
			case <-at.C:
				_ = audio.WriteSample(media.Sample{Data: OpusSilence, Duration: 20 * time.Millisecond})
			}
		}
	}()
	t.Cleanup(p.Close)
	return p
}

// Publish connects a publisher to url (WHIP or a call's publish endpoint).
func Publish(t testing.TB, url, token string) *Publisher {
	t.Helper()
	p := NewPublisher(t)
	p.Result = PostOffer(t, p.PC, url, token)
	return p
}

// Sent is the media time of the video sent so far (30 frames a second).
func (p *Publisher) Sent() time.Duration { return time.Duration(p.frames.Load()) * time.Second / 30 }

// SendFor waits until d more of video has been sent: media time, which a
// loaded machine's wall clock outruns.
func (p *Publisher) SendFor(t testing.TB, d time.Duration) {
	t.Helper()
	until := p.Sent() + d
	Eventually(t, 10*d+30*time.Second, fmt.Sprintf("%s of video sent", d), func() bool { return p.Sent() >= until })
}

// PLIs counts the keyframe requests the server sent.
func (p *Publisher) PLIs() int64 { return p.plis.Load() }

// TWCC is the number of transport-wide congestion control feedback
// reports the server sent, and the packets they report as received.
func (p *Publisher) TWCC() (reports, acked int64) { return p.twccReports.Load(), p.twccAcked.Load() }

// REMB is the bitrate of the last REMB the server sent (0: none).
func (p *Publisher) REMB() uint64 { return p.remb.Load() }

// Close stops sending and closes the peer connection (a closed tab).
func (p *Publisher) Close() {
	p.once.Do(func() {
		close(p.stop)
		_ = p.PC.Close()
		p.wg.Wait()
	})
}

// Viewer receives audio and video, reassembles VP8 frames and decodes
// keyframes.
type Viewer struct {
	PC     *webrtc.PeerConnection
	Result Result

	mu        sync.Mutex
	frames    int
	keyframes []*image.YCbCr
	video     []Packet
	audio     int
	audioOK   bool
	decodeErr error
	state     webrtc.PeerConnectionState
	closed    bool
	wg        sync.WaitGroup
	once      sync.Once
}

// View connects a viewer to url (WHEP or a call's subscribe endpoint).
func View(t testing.TB, url, token string) *Viewer {
	t.Helper()
	return ViewWith(t, url, token, Options{})
}

// ViewWith is View with options.
func ViewWith(t testing.TB, url, token string, o Options) *Viewer {
	t.Helper()
	v := NewViewerWith(t, o)
	v.Result = PostOffer(t, v.PC, url, token)
	return v
}

// NewViewer makes the offer side of a viewer without sending it.
func NewViewer(t testing.TB) *Viewer {
	t.Helper()
	return NewViewerWith(t, Options{})
}

// NewViewerWith is NewViewer with options.
func NewViewerWith(t testing.TB, o Options) *Viewer {
	t.Helper()
	pc := NewPeerConnectionWith(t, o)
	v := &Viewer{PC: pc}
	for _, k := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
		if _, err := pc.AddTransceiverFromKind(k, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			t.Fatal(err)
		}
	}
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		v.mu.Lock()
		v.state = s
		v.mu.Unlock()
	})
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		v.mu.Lock()
		if v.closed {
			v.mu.Unlock()
			return
		}
		v.wg.Add(1)
		v.mu.Unlock()
		defer v.wg.Done()
		if tr.Kind() == webrtc.RTPCodecTypeAudio {
			for {
				pkt, _, err := tr.ReadRTP()
				if err != nil {
					return
				}
				v.mu.Lock()
				v.audio++
				v.audioOK = v.audioOK || bytes.Equal(pkt.Payload, OpusSilence)
				v.mu.Unlock()
			}
		}
		sb := samplebuilder.New(64, &codecs.VP8Packet{}, 90000)
		for {
			pkt, _, err := tr.ReadRTP()
			if err != nil {
				return
			}
			v.mu.Lock()
			v.video = append(v.video, Packet{SSRC: pkt.SSRC, Seq: pkt.SequenceNumber, TS: pkt.Timestamp,
				PictureID: vp8PictureID(pkt.Payload), Size: len(pkt.Payload), At: time.Now()})
			v.mu.Unlock()
			sb.Push(pkt)
			for s := sb.Pop(); s != nil; s = sb.Pop() {
				v.frame(s.Data)
			}
		}
	})
	t.Cleanup(v.Close)
	return v
}

func (v *Viewer) frame(data []byte) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.frames++
	// A VP8 keyframe: frame tag bit 0 clear, then the start code 9d 01 2a.
	if len(data) < 10 || data[0]&1 != 0 || !bytes.Equal(data[3:6], []byte{0x9d, 0x01, 0x2a}) {
		return
	}
	d := vp8.NewDecoder()
	d.Init(bytes.NewReader(data), len(data))
	if _, err := d.DecodeFrameHeader(); err != nil {
		v.decodeErr = err
		return
	}
	img, err := d.DecodeFrame()
	if err != nil {
		v.decodeErr = err
		return
	}
	// The decoder reuses its image; keep a copy.
	cp := *img
	cp.Y = append([]byte(nil), img.Y...)
	v.keyframes = append(v.keyframes, &cp)
}

// vp8PictureID reads the PictureID of a VP8 payload descriptor (RFC 7741):
// -1 when it has none; 1<<16 is set on a 7-bit one.
func vp8PictureID(p []byte) int {
	if len(p) < 3 || p[0]&0x80 == 0 || p[1]&0x80 == 0 {
		return -1
	}
	if p[2]&0x80 == 0 {
		return int(p[2]) | 1<<16
	}
	if len(p) < 4 {
		return -1
	}
	return int(p[2]&0x7f)<<8 | int(p[3])
}

// Packet is the header of a received video packet.
type Packet struct {
	SSRC uint32
	Seq  uint16
	TS   uint32
	// The VP8 PictureID (-1: none); 1<<16 is set when it is 7 bits wide.
	PictureID int
	Size      int       // payload bytes
	At        time.Time // arrival
}

// VideoBitrate is the video payload bitrate (bits/s) received in the last
// window.
func (v *Viewer) VideoBitrate(window time.Duration) float64 {
	from := time.Now().Add(-window)
	bytes := 0
	for _, p := range v.VideoPackets() {
		if p.At.After(from) {
			bytes += p.Size
		}
	}
	return float64(bytes) * 8 / window.Seconds()
}

// VideoPackets returns the headers of the video packets received so far,
// in arrival order.
func (v *Viewer) VideoPackets() []Packet {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]Packet(nil), v.video...)
}

// Stats is what a viewer has received so far.
type Stats struct {
	Frames, Audio int
	Keyframes     []*image.YCbCr
	AudioIsOpus   bool
	DecodeErr     error
	State         webrtc.PeerConnectionState
}

func (v *Viewer) Stats() Stats {
	v.mu.Lock()
	defer v.mu.Unlock()
	return Stats{Frames: v.frames, Audio: v.audio, Keyframes: append([]*image.YCbCr(nil), v.keyframes...),
		AudioIsOpus: v.audioOK, DecodeErr: v.decodeErr, State: v.state}
}

// Close closes the peer connection (a closed tab).
func (v *Viewer) Close() {
	v.once.Do(func() {
		v.mu.Lock()
		v.closed = true
		v.mu.Unlock()
		_ = v.PC.Close()
		v.wg.Wait()
	})
}

// Eventually polls cond every 20 ms until it holds or timeout passes.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for: %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// CheckPicture reports whether img is the clip's 64×64 frame 0 (lossy:
// luma within a tolerance on a grid of samples).
func CheckPicture(img *image.YCbCr) error {
	b := img.Bounds()
	if b.Dx() != 64 || b.Dy() != 64 {
		return fmt.Errorf("picture is %dx%d, want 64x64", b.Dx(), b.Dy())
	}
	bad := 0
	for r := 4; r < 64; r += 8 {
		for c := 4; c < 64; c += 8 {
			got := int(img.Y[img.YOffset(c, r)])
			if d := got - ExpectedLuma(r, c); d > 40 || d < -40 {
				bad++
			}
		}
	}
	if bad > 6 {
		return fmt.Errorf("%d of 64 luma samples differ from the source picture", bad)
	}
	return nil
}

// RestartICE restarts pc's ICE the way a WHIP/WHEP client does after a
// network change (RFC 9725 §4.3): a new offer with new credentials and
// candidates, sent as an SDP fragment in a PATCH to the session's
// Location; the server's fragment (its new credentials and candidates)
// completes the answer. It returns the PATCH result.
func RestartICE(t testing.TB, pc *webrtc.PeerConnection, sessionURL string) Result {
	t.Helper()
	offer, err := pc.CreateOffer(&webrtc.OfferOptions{ICERestart: true})
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-gathered
	frag := ICEFragment(t, pc.LocalDescription().SDP)
	req, err := http.NewRequest(http.MethodPatch, sessionURL, strings.NewReader(frag))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/trickle-ice-sdpfrag")
	req.Header.Set("If-Match", "*")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("PATCH %s: %v", sessionURL, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	out := Result{Status: res.StatusCode, Body: string(b), Header: res.Header}
	if res.StatusCode != http.StatusOK {
		return out
	}
	// The answer: the previous one with the server's new ICE part.
	var ufrag, pwd string
	var cands []string
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "a=ice-ufrag:"):
			ufrag = strings.TrimPrefix(line, "a=ice-ufrag:")
		case strings.HasPrefix(line, "a=ice-pwd:"):
			pwd = strings.TrimPrefix(line, "a=ice-pwd:")
		case strings.HasPrefix(line, "a=candidate:"):
			cands = append(cands, line)
		}
	}
	var answer []string
	first := true
	for _, line := range strings.Split(pc.CurrentRemoteDescription().SDP, "\r\n") {
		switch {
		case line == "":
			continue
		case strings.HasPrefix(line, "a=ice-ufrag:"):
			line = "a=ice-ufrag:" + ufrag
		case strings.HasPrefix(line, "a=ice-pwd:"):
			line = "a=ice-pwd:" + pwd
		case strings.HasPrefix(line, "a=candidate:"), line == "a=end-of-candidates":
			continue
		}
		answer = append(answer, line)
		if strings.HasPrefix(line, "a=mid:") && first {
			answer = append(answer, cands...)
			first = false
		}
	}
	sdpAnswer := strings.Join(answer, "\r\n") + "\r\n"
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sdpAnswer}); err != nil {
		t.Fatalf("restart answer: %v\n%s", err, sdpAnswer)
	}
	return out
}

// ICEFragment is the ICE part of a description as an SDP fragment
// (RFC 8840): credentials, the first media section's mid and candidates.
func ICEFragment(t testing.TB, desc string) string {
	t.Helper()
	var b strings.Builder
	var ufrag, pwd, mid string
	var cands []string
	sections := 0
	for _, line := range strings.Split(desc, "\r\n") {
		switch {
		case strings.HasPrefix(line, "m="):
			sections++
		case strings.HasPrefix(line, "a=ice-ufrag:") && ufrag == "":
			ufrag = line
		case strings.HasPrefix(line, "a=ice-pwd:") && pwd == "":
			pwd = line
		case strings.HasPrefix(line, "a=mid:") && mid == "":
			mid = line
		case strings.HasPrefix(line, "a=candidate:") && sections == 1:
			cands = append(cands, line)
		}
	}
	fmt.Fprintf(&b, "%s\r\n%s\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\n%s\r\n", ufrag, pwd, mid)
	for _, c := range cands {
		b.WriteString(c + "\r\n")
	}
	b.WriteString("a=end-of-candidates\r\n")
	return b.String()
}

// SelectedLocalPort is the local port of pc's selected ICE candidate
// pair (0 before one is selected).
func SelectedLocalPort(pc *webrtc.PeerConnection) int {
	for _, tr := range pc.GetTransceivers() {
		if dt := tr.Receiver().Transport(); dt != nil {
			if pair, err := dt.ICETransport().GetSelectedCandidatePair(); err == nil && pair != nil {
				return int(pair.Local.Port)
			}
		}
	}
	return 0
}

// SelectedLocalType is the type of pc's selected local ICE candidate.
func SelectedLocalType(pc *webrtc.PeerConnection) webrtc.ICECandidateType {
	for _, tr := range pc.GetTransceivers() {
		if dt := tr.Receiver().Transport(); dt != nil {
			if pair, err := dt.ICETransport().GetSelectedCandidatePair(); err == nil && pair != nil {
				return pair.Local.Typ
			}
		}
	}
	return webrtc.ICECandidateTypeUnknown
}

// ClipFrames returns the VP8 frames of the test clip, for commands (which
// have no testing.TB); frame 0 is a keyframe.
func ClipFrames() ([][]byte, error) {
	r, _, err := ivfreader.NewWith(bytes.NewReader(ivf))
	if err != nil {
		return nil, fmt.Errorf("ivf: %w", err)
	}
	var frames [][]byte
	for {
		f, _, err := r.ParseNextFrame()
		if errors.Is(err, io.EOF) {
			return frames, nil
		}
		if err != nil {
			return nil, fmt.Errorf("ivf frame: %w", err)
		}
		frames = append(frames, f)
	}
}

// policerFactory builds the DownlinkLimit interceptor.
type policerFactory struct{ limit *atomic.Int64 }

func (f *policerFactory) NewInterceptor(string) (interceptor.Interceptor, error) {
	return &policer{limit: f.limit}, nil
}

// policer is a token bucket over all of a connection's incoming RTP.
type policer struct {
	interceptor.NoOp
	limit  *atomic.Int64
	mu     sync.Mutex
	tokens float64 // bits
	last   time.Time
}

func (p *policer) BindRemoteStream(_ *interceptor.StreamInfo, reader interceptor.RTPReader) interceptor.RTPReader {
	return interceptor.RTPReaderFunc(func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
		for {
			n, attr, err := reader.Read(b, a)
			if err != nil || p.admit(n) {
				return n, attr, err
			}
		}
	})
}

func (p *policer) admit(n int) bool {
	limit := float64(p.limit.Load())
	if limit <= 0 {
		return true
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	burst := limit * 0.05
	p.tokens = min(burst, p.tokens+now.Sub(p.last).Seconds()*limit)
	p.last = now
	if p.tokens < float64(n*8) {
		return false
	}
	p.tokens -= float64(n * 8)
	return true
}

// ridStamper writes the mid and RTP stream id header extensions on a
// simulcast publisher's layers, as browsers do (Pion leaves that to the
// application); the server tells the layers apart by them.
type ridStamper struct {
	interceptor.NoOp
	tr  sync.Map // SSRC → *webrtc.RTPTransceiver
	rid sync.Map // SSRC → RID
}

func (s *ridStamper) NewInterceptor(string) (interceptor.Interceptor, error) { return s, nil }

func (s *ridStamper) BindLocalStream(info *interceptor.StreamInfo, writer interceptor.RTPWriter) interceptor.RTPWriter {
	tr, ok := s.tr.Load(info.SSRC)
	if !ok {
		return writer
	}
	rid, _ := s.rid.Load(info.SSRC)
	var midID, ridID uint8
	for _, e := range info.RTPHeaderExtensions {
		switch e.URI {
		case sdp.SDESMidURI:
			midID = uint8(e.ID)
		case sdp.SDESRTPStreamIDURI:
			ridID = uint8(e.ID)
		}
	}
	mid := []byte(tr.(*webrtc.RTPTransceiver).Mid())
	return interceptor.RTPWriterFunc(func(h *rtp.Header, payload []byte, a interceptor.Attributes) (int, error) {
		if midID != 0 && ridID != 0 {
			_ = h.SetExtension(midID, mid)
			_ = h.SetExtension(ridID, []byte(rid.(string)))
		}
		return writer.Write(h, payload, a)
	})
}
