// Command recorddrill checks what the media server records: it runs the
// server in this process with one Pion publisher for a given time (the
// test clip at 30 fps and Opus every 20 ms, both marked every 10 s at the
// same instant: the clip restarts at its keyframe and one Opus packet
// carries a marker), records the stream, and reports the file's duration
// and how far apart audio and video are: at the start, at the end and at
// every marker (the audio/video sync as a player sees it). With -inspect
// it only reports on a WebM file.
//
//	go run ./rtc/recorddrill -for 10m
//	go run ./rtc/recorddrill -inspect live.webm
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/at-wat/ebml-go"
	"github.com/at-wat/ebml-go/webm"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"

	"salonbase/rtc"
	"salonbase/rtc/rtctest"
)

func main() {
	inspect := flag.String("inspect", "", "report on this WebM file only")
	dur := flag.Duration("for", time.Minute, "how long to publish")
	keep := flag.String("keep", "", "copy the recording here")
	flag.Parse()
	if *inspect != "" {
		f, err := os.Open(*inspect)
		if err != nil {
			log.Fatal(err)
		}
		info, err := rtc.InspectRecording(f)
		f.Close()
		if err != nil {
			log.Fatal(err)
		}
		b, err := os.ReadFile(*inspect)
		if err != nil {
			log.Fatal(err)
		}
		report(info, markerSkew(b))
		return
	}
	if err := drill(*dur, *keep); err != nil {
		log.Fatal(err)
	}
}

func report(info rtc.RecordingInfo, markers []time.Duration) {
	fmt.Printf("duration %s, %d cues\n", info.Duration.Round(time.Millisecond), info.Cues)
	for _, t := range info.Tracks {
		fmt.Printf("track %d %s %dx%d: %d blocks (%d key), first %s, last %s, ordered %v\n",
			t.Number, t.Codec, t.Width, t.Height, t.Blocks, t.Keyframes, t.First, t.Last, t.Ordered)
	}
	v, a := info.Track("V_VP8"), info.Track("A_OPUS")
	if v != nil && a != nil {
		fmt.Printf("start: audio - video = %s; end: audio - video = %s\n", a.First-v.First, a.Last-v.Last)
	}
	if len(markers) > 0 {
		worst := time.Duration(0)
		for _, m := range markers {
			worst = max(worst, m.Abs())
		}
		fmt.Printf("sync at %d markers (audio marker - nearest video keyframe): %v; worst %s\n", len(markers), markers, worst)
	}
}

// marker is the Opus packet sent at each 10 s mark (silence with one more
// byte: still a valid CELT frame).
var marker = []byte{0xf8, 0xff, 0xfe, 0x00}

// markerSkew: for each marker block of the audio track, its time minus
// the time of the nearest video keyframe.
func markerSkew(file []byte) []time.Duration {
	var doc struct {
		Header  webm.EBMLHeader `ebml:"EBML"`
		Segment webm.Segment    `ebml:"Segment"`
	}
	if err := ebml.Unmarshal(bytes.NewReader(file), &doc); err != nil {
		return nil
	}
	audio, video := uint64(0), uint64(0)
	for _, t := range doc.Segment.Tracks.TrackEntry {
		if t.CodecID == "A_OPUS" {
			audio = t.TrackNumber
		} else {
			video = t.TrackNumber
		}
	}
	var marks, keys []time.Duration
	for _, c := range doc.Segment.Cluster {
		for _, b := range c.SimpleBlock {
			at := time.Duration(int64(c.Timecode)+int64(b.Timecode)) * time.Millisecond
			switch {
			case b.TrackNumber == audio && len(b.Data) > 0 && bytes.Equal(b.Data[0], marker):
				marks = append(marks, at)
			case b.TrackNumber == video && b.Keyframe:
				keys = append(keys, at)
			}
		}
	}
	var out []time.Duration
	for _, m := range marks {
		best := time.Duration(1 << 62)
		for _, k := range keys {
			if (m - k).Abs() < best.Abs() {
				best = m - k
			}
		}
		if best.Abs() < time.Second {
			out = append(out, best)
		}
	}
	return out
}

// open lets anyone publish, recorded.
type open struct{}

func (open) AuthorizePublish(*http.Request, string) (rtc.Grant, error) {
	return rtc.Grant{User: "host", Record: true}, nil
}
func (open) AuthorizeView(*http.Request, string) (rtc.Grant, error) { return rtc.Grant{}, nil }
func (open) AuthorizeCall(*http.Request, string) (rtc.Grant, error) { return rtc.Grant{}, nil }
func (open) AuthorizeICE(*http.Request) (rtc.Grant, error)          { return rtc.Grant{}, nil }
func (open) StillAllowed(rtc.Grant) bool                            { return true }

func drill(dur time.Duration, keep string) error {
	frames, err := rtctest.ClipFrames()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "recorddrill-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	live := make(chan struct{}, 1)
	recorded := make(chan string, 1)
	srv, err := rtc.New(rtc.Config{IncludeLoopback: true, RecordDir: dir}, open{}, rtc.Events{
		StreamLive:     func(string, rtc.Grant) { live <- struct{}{} },
		StreamRecorded: func(_, path string) { recorded <- path },
	}, nil)
	if err != nil {
		return err
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: srv.Handler()}
	go hs.Serve(ln)
	defer hs.Close()
	base := "http://" + ln.Addr().String()

	pc, video, audio, err := publisher()
	if err != nil {
		return err
	}
	defer pc.Close()
	var pli atomic.Bool
	var plis atomic.Int64
	for _, tr := range pc.GetTransceivers() {
		go func() {
			for {
				pkts, _, err := tr.Sender().ReadRTCP()
				if err != nil {
					return
				}
				for _, p := range pkts {
					if _, ok := p.(*rtcp.PictureLossIndication); ok {
						pli.Store(true)
						plis.Add(1)
					}
				}
			}
		}()
	}
	location, err := offer(pc, base+"/api/rtc/live/drill/whip")
	if err != nil {
		return err
	}
	fmt.Printf("publishing for %s\n", dur)
	// One clock drives both tracks: video frame n is due at n/30 s, audio
	// frame k at k/50 s; every 10 s both are marked at the same instant.
	start := time.Now()
	tick := time.NewTicker(5 * time.Millisecond)
	nv, na, clip := 0, 0, 0
	for now := range tick.C {
		el := now.Sub(start)
		if el > dur {
			break
		}
		for ; time.Duration(nv)*time.Second/30 <= el; nv++ {
			if nv%300 == 0 || pli.Swap(false) {
				clip = 0
			}
			if err := video.WriteSample(media.Sample{Data: frames[clip%len(frames)], Duration: time.Second / 30}); err != nil {
				return err
			}
			clip++
		}
		for ; time.Duration(na)*20*time.Millisecond <= el; na++ {
			p := rtctest.OpusSilence
			if na%500 == 0 {
				p = marker
			}
			if err := audio.WriteSample(media.Sample{Data: p, Duration: 20 * time.Millisecond}); err != nil {
				return err
			}
		}
	}
	tick.Stop()
	select {
	case <-live:
	default:
		return errors.New("the stream never went live")
	}
	req, _ := http.NewRequest(http.MethodDelete, base+location, nil)
	req.Header.Set("Authorization", "Bearer host")
	if res, err := http.DefaultClient.Do(req); err == nil {
		res.Body.Close()
	}
	var path string
	select {
	case path = <-recorded:
	case <-time.After(60 * time.Second):
		return errors.New("no recording")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if keep != "" {
		if err := os.WriteFile(keep, b, 0o644); err != nil {
			return err
		}
	}
	info, err := rtc.InspectRecording(bytes.NewReader(b))
	if err != nil {
		return err
	}
	fmt.Printf("published %s (%d video frames, %d audio frames, %d keyframe requests); file %.1f MB\n", dur, nv, na, plis.Load(), float64(len(b))/1e6)
	report(info, markerSkew(b))
	return nil
}

// publisher is a Pion peer connection like a browser's: default codecs
// and interceptors (sender reports), loopback only.
func publisher() (*webrtc.PeerConnection, *webrtc.TrackLocalStaticSample, *webrtc.TrackLocalStaticSample, error) {
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		return nil, nil, nil, err
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(m, ir); err != nil {
		return nil, nil, nil, err
	}
	var s webrtc.SettingEngine
	s.SetIncludeLoopbackCandidate(true)
	s.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	s.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	s.SetInterfaceFilter(func(name string) bool { return strings.HasPrefix(name, "lo") })
	pc, err := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(s)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, nil, nil, err
	}
	video, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8}, "video", "drill")
	if err != nil {
		return nil, nil, nil, err
	}
	audio, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus}, "audio", "drill")
	if err != nil {
		return nil, nil, nil, err
	}
	for _, tr := range []webrtc.TrackLocal{video, audio} {
		if _, err := pc.AddTransceiverFromTrack(tr, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
			return nil, nil, nil, err
		}
	}
	return pc, video, audio, nil
}

// offer does the WHIP exchange and returns the session's location.
func offer(pc *webrtc.PeerConnection, url string) (string, error) {
	o, err := pc.CreateOffer(nil)
	if err != nil {
		return "", err
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(o); err != nil {
		return "", err
	}
	<-gathered
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(pc.LocalDescription().SDP))
	req.Header.Set("Content-Type", "application/sdp")
	req.Header.Set("Authorization", "Bearer host")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusCreated {
		return "", fmt.Errorf("publish: %d %s", res.StatusCode, body)
	}
	return res.Header.Get("Location"), pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: string(body)})
}
