// Command rtcbench measures the media server's fan-out: one publisher
// sending a 720p-like stream (~1.5 Mbps of VP8-sized RTP, 30 fps) to N
// viewers over loopback. The server runs in a child process (this same
// binary with -serve), so its CPU time and memory are measured apart from
// the Pion clients.
//
//	go run ./rtc/rtcbench -n 10,50,200,500 -window 10s -srtp cm
//
// With -simulcast the publisher sends three layers (q ~60 kbit/s, h ~600
// kbit/s, f the ~1.5 Mbit/s stream), as a browser studio does, and the
// viewers send transport-wide CC feedback like browsers, so the server
// runs its per-viewer bandwidth estimator and layer choice; on loopback
// every viewer gets f.
//
// With -floor it measures instead what a delivered packet costs below the
// server's own code (the kernel's UDP sends, SRTP encryption; floor.go).
package main

import (
	"bufio"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/dtls/v3"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"salonbase/rtc"
)

func main() {
	serve := flag.Bool("serve", false, "run the media server (child process)")
	ns := flag.String("n", "10,50,200,500", "viewer counts")
	window := flag.Duration("window", 10*time.Second, "measurement window per run")
	simulcast := flag.Bool("simulcast", false, "the publisher sends three simulcast layers; viewers send TWCC feedback")
	batch := flag.Int("batch", 0, "the server sends UDP in batches of up to this many packets (sendmmsg; 0: the default, Config.UDPBatch; -1: one sendto each)")
	floor := flag.Bool("floor", false, "measure what a delivered packet costs below the server's code (the kernel's sends, SRTP) with the first of -n viewers and -batch; no server")
	cipher := flag.String("srtp", "cm", "SRTP profile the clients accept: cm (AES_CM_128_HMAC_SHA1_80, what browsers negotiate) or gcm (AEAD_AES_128_GCM)")
	flag.Parse()
	var profiles []dtls.SRTPProtectionProfile
	switch *cipher {
	case "cm":
		profiles = []dtls.SRTPProtectionProfile{dtls.SRTP_AES128_CM_HMAC_SHA1_80}
	case "gcm":
		profiles = []dtls.SRTPProtectionProfile{dtls.SRTP_AEAD_AES_128_GCM}
	default:
		log.Fatalf("-srtp: cm or gcm, not %q", *cipher)
	}
	if *serve {
		runServer(*batch)
		return
	}
	if *floor {
		n, err := strconv.Atoi(strings.TrimSpace(strings.Split(*ns, ",")[0]))
		if err != nil {
			log.Fatal(err)
		}
		runFloor(n, *batch, *window)
		return
	}
	fmt.Printf("| viewers | server CPU (%% of one core) | CPU per viewer | publisher pkt/s | delivered pkt/s | server CPU per delivered pkt | delay p50 | delay p99 | server RSS | RSS per viewer |\n")
	fmt.Printf("|---|---|---|---|---|---|---|---|---|---|\n")
	for _, f := range strings.Split(*ns, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			log.Fatal(err)
		}
		if err := run(n, *window, profiles, *simulcast, *batch); err != nil {
			log.Printf("n=%d: %v", n, err)
		}
	}
}

// open lets everyone in: the benchmark measures forwarding, not policy.
type open struct{}

func (open) AuthorizePublish(*http.Request, string) (rtc.Grant, error) { return rtc.Grant{}, nil }
func (open) AuthorizeView(*http.Request, string) (rtc.Grant, error)    { return rtc.Grant{}, nil }
func (open) AuthorizeCall(*http.Request, string) (rtc.Grant, error) {
	return rtc.Grant{}, rtc.Forbidden("no calls")
}
func (open) AuthorizeICE(*http.Request) (rtc.Grant, error) { return rtc.Grant{}, nil }
func (open) StillAllowed(rtc.Grant) bool                   { return true }

func runServer(batch int) {
	// RTCBENCH_CPUPROFILE=file profiles the server (go tool pprof file).
	if path := os.Getenv("RTCBENCH_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	port, err := freeUDPPort()
	if err != nil {
		log.Fatal(err)
	}
	srv, err := rtc.New(rtc.Config{IncludeLoopback: true, UDPPort: port, MaxViewers: 10000, MaxSessionsPerUser: 100000, UDPBatch: batch},
		open{}, rtc.Events{}, nil)
	if err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go func() {
		t := time.NewTicker(time.Second)
		for range t.C {
			st := srv.Stats()
			fmt.Printf("FORWARDED %d\n", st.Forwarded)
			fmt.Printf("BATCHES %d %d %d %d\n", st.UDPBatches, st.UDPBatched, st.UDPBatchesFull, st.UDPBatchesShort)
		}
	}()
	fmt.Printf("URL http://%s\n", ln.Addr())
	go http.Serve(ln, srv.Handler())
	_, _ = io.Copy(io.Discard, os.Stdin) // until the parent closes stdin
	// RTCBENCH_ALLOCPROFILE=file: where the server allocated, over the
	// whole run (go tool pprof -sample_index=alloc_space file).
	if path := os.Getenv("RTCBENCH_ALLOCPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
			log.Fatal(err)
		}
		f.Close()
	}
	srv.Close()
}

func freeUDPPort() (int, error) {
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port, nil
}

type child struct {
	cmd       *exec.Cmd
	stdin     io.WriteCloser
	url       string
	forwarded atomic.Uint64
	batches   atomic.Pointer[[4]uint64] // sendmmsg calls, packets, full calls, short calls
}

func startServer(batch int) (*child, error) {
	cmd := exec.Command(os.Args[0], "-serve", "-batch", strconv.Itoa(batch))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &child{cmd: cmd, stdin: stdin}
	sc := bufio.NewScanner(out)
	if !sc.Scan() || !strings.HasPrefix(sc.Text(), "URL ") {
		return nil, fmt.Errorf("server did not start")
	}
	c.url = strings.TrimPrefix(sc.Text(), "URL ")
	go func() {
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "FORWARDED "); ok {
				n, _ := strconv.ParseUint(v, 10, 64)
				c.forwarded.Store(n)
			}
			if v, ok := strings.CutPrefix(sc.Text(), "BATCHES "); ok {
				var b [4]uint64
				for i, f := range strings.Fields(v) {
					b[i], _ = strconv.ParseUint(f, 10, 64)
				}
				c.batches.Store(&b)
			}
		}
	}()
	return c, nil
}

func (c *child) stop() {
	c.stdin.Close()
	_ = c.cmd.Wait()
}

// cpuTicks is the child's user+system CPU time in clock ticks (1/100 s).
func (c *child) cpuTicks() int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", c.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	u, _ := strconv.ParseInt(f[11], 10, 64)
	k, _ := strconv.ParseInt(f[12], 10, 64)
	return u + k
}

func (c *child) rssKB() int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

// newPC is a client accepting only the SRTP profiles given (-srtp).
func newPC(profiles []dtls.SRTPProtectionProfile, simulcast bool) (*webrtc.PeerConnection, error) {
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		return nil, err
	}
	ir := &interceptor.Registry{}
	if simulcast {
		if err := webrtc.ConfigureSimulcastExtensionHeaders(m); err != nil {
			return nil, err
		}
		if err := webrtc.ConfigureTWCCSender(m, ir); err != nil {
			return nil, err
		}
	}
	var s webrtc.SettingEngine
	s.SetIncludeLoopbackCandidate(true)
	s.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	s.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	s.SetInterfaceFilter(func(name string) bool { return strings.HasPrefix(name, "lo") })
	s.SetSRTPProtectionProfiles(profiles...)
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(s), webrtc.WithInterceptorRegistry(ir)).NewPeerConnection(webrtc.Configuration{})
}

func signal(pc *webrtc.PeerConnection, url string) (int, error) {
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		return 0, err
	}
	done := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		return 0, err
	}
	<-done
	res, err := http.Post(url, "application/sdp", strings.NewReader(pc.LocalDescription().SDP))
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusCreated {
		return res.StatusCode, nil
	}
	return res.StatusCode, pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: string(body)})
}

// delays collects publisher→viewer delays in microseconds.
type delays struct {
	mu      sync.Mutex
	on      bool
	samples []int64
	packets atomic.Int64
}

func run(n int, window time.Duration, profiles []dtls.SRTPProtectionProfile, simulcast bool, batch int) error {
	srv, err := startServer(batch)
	if err != nil {
		return err
	}
	defer srv.stop()

	pub, err := newPC(profiles, simulcast)
	if err != nil {
		return err
	}
	defer pub.Close()
	vp8 := webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8}
	var tracks []*webrtc.TrackLocalStaticRTP
	rids := []string{""}
	if simulcast {
		rids = []string{"f", "h", "q"}
	}
	for _, rid := range rids {
		var opts []func(*webrtc.TrackLocalStaticRTP)
		if rid != "" {
			opts = append(opts, webrtc.WithRTPStreamID(rid))
		}
		track, err := webrtc.NewTrackLocalStaticRTP(vp8, "video", "bench", opts...)
		if err != nil {
			return err
		}
		tracks = append(tracks, track)
	}
	tc, err := pub.AddTransceiverFromTrack(tracks[0], webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		return err
	}
	for _, more := range tracks[1:] {
		if err := tc.Sender().AddEncoding(more); err != nil {
			return err
		}
	}
	if st, err := signal(pub, srv.url+"/api/rtc/live/bench/whip"); err != nil || st != http.StatusCreated {
		return fmt.Errorf("publish: %d %v", st, err)
	}
	stop := make(chan struct{})
	defer close(stop)
	// The mid and RID header extensions tell the layers apart (Pion
	// leaves writing them to the application).
	var midID, ridID uint8
	for _, x := range tc.Sender().GetParameters().HeaderExtensions {
		switch x.URI {
		case sdp.SDESMidURI:
			midID = uint8(x.ID)
		case sdp.SDESRTPStreamIDURI:
			ridID = uint8(x.ID)
		}
	}
	for i, track := range tracks {
		if !simulcast {
			ridID = 0
		}
		go sendStream(track, stop, 6>>i, tc.Mid(), midID, ridID)
	}

	d := &delays{}
	viewers := make([]*webrtc.PeerConnection, 0, n)
	defer func() {
		for _, v := range viewers {
			v.Close()
		}
	}()
	time.Sleep(2 * time.Second)
	rss0 := srv.rssKB()
	for len(viewers) < n {
		v, err := newPC(profiles, simulcast)
		if err != nil {
			return err
		}
		if _, err := v.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			return err
		}
		v.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) { receive(tr, d) })
		st, err := signal(v, srv.url+"/api/rtc/live/bench/whep")
		if err != nil {
			return err
		}
		if st == http.StatusConflict { // not live yet
			v.Close()
			time.Sleep(100 * time.Millisecond)
			continue
		}
		if st != http.StatusCreated {
			return fmt.Errorf("view: %d", st)
		}
		viewers = append(viewers, v)
	}
	time.Sleep(3 * time.Second) // settle: every viewer connected and receiving

	cpu0, fwd0, got0, b0 := srv.cpuTicks(), srv.forwarded.Load(), d.packets.Load(), srv.batchStats()
	d.mu.Lock()
	d.on = true
	d.mu.Unlock()
	start := time.Now()
	time.Sleep(window)
	el := time.Since(start).Seconds()
	cpu1, fwd1, got1, b1 := srv.cpuTicks(), srv.forwarded.Load(), d.packets.Load(), srv.batchStats()
	d.mu.Lock()
	d.on = false
	s := slices.Clone(d.samples)
	d.mu.Unlock()
	rss1 := srv.rssKB()

	slices.Sort(s)
	pct := func(p float64) string {
		if len(s) == 0 {
			return "n/a"
		}
		return fmt.Sprintf("%.2f ms", float64(s[int(float64(len(s)-1)*p)])/1000)
	}
	cpuPct := float64(cpu1-cpu0) / el // ticks/s = % of one core
	delivered := float64(got1-got0) / el
	fmt.Printf("| %d | %.1f %% | %.3f %% | %.0f | %.0f | %.1f µs | %s | %s | %.1f MB | %.0f KB |\n",
		n, cpuPct, cpuPct/float64(n), float64(fwd1-fwd0)/el, delivered, cpuPct*1e4/delivered,
		pct(0.5), pct(0.99), float64(rss1)/1024, float64(rss1-rss0)/float64(n))
	// How full the server's sendmmsg batches were (stderr: the table
	// stays a table). The counts are the child's, once a second.
	if calls := b1[0] - b0[0]; calls > 0 {
		log.Printf("n=%d: %.0f sendmmsg/s, %.1f packets each; %.0f %% of them full, %d sent less than given",
			n, float64(calls)/el, float64(b1[1]-b0[1])/float64(calls), 100*float64(b1[2]-b0[2])/float64(calls), b1[3]-b0[3])
	}
	return nil
}

// batchStats is the child's last sendmmsg counts (zero before the first).
func (c *child) batchStats() [4]uint64 {
	if b := c.batches.Load(); b != nil {
		return *b
	}
	return [4]uint64{}
}

// sendStream sends 30 frames/s of 6 packets (5×1200 + 250 bytes payload,
// ~1.5 Mbps), each stamped with the send time; a lower simulcast layer
// sends fewer packets a frame (6>>i). With ridID, packets carry the
// layer's mid and RID header extensions.
func sendStream(track *webrtc.TrackLocalStaticRTP, stop chan struct{}, packets int, mid string, midID, ridID uint8) {
	payload := make([]byte, 1200)
	pkt := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SSRC: 1}}
	t := time.NewTicker(time.Second / 30)
	defer t.Stop()
	var seq uint16
	var ts uint32
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		ts += 3000
		for i := 0; i < packets; i++ {
			size := 1200
			if i == packets-1 {
				size = 250
			}
			binary.BigEndian.PutUint64(payload, uint64(time.Now().UnixNano()))
			pkt.SequenceNumber, pkt.Timestamp, pkt.Marker = seq, ts, i == packets-1
			pkt.Header.Extension, pkt.Header.Extensions = false, nil
			if ridID != 0 {
				_ = pkt.Header.SetExtension(midID, []byte(mid))
				_ = pkt.Header.SetExtension(ridID, []byte(track.RID()))
			}
			pkt.Payload = payload[:size]
			seq++
			_ = track.WriteRTP(pkt)
		}
	}
}

func receive(tr *webrtc.TrackRemote, d *delays) {
	buf := make([]byte, 1500)
	var pkt rtp.Packet
	for {
		n, _, err := tr.Read(buf)
		if err != nil {
			return
		}
		if pkt.Unmarshal(buf[:n]) != nil || len(pkt.Payload) < 8 {
			continue
		}
		sent := int64(binary.BigEndian.Uint64(pkt.Payload))
		d.packets.Add(1)
		d.mu.Lock()
		if d.on && len(d.samples) < 2_000_000 {
			d.samples = append(d.samples, (time.Now().UnixNano()-sent)/1000)
		}
		d.mu.Unlock()
	}
}
