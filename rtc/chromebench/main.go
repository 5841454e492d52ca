// Command chromebench measures how fast a real browser's publisher ramps
// up against the media server: headless Chromium with a fake 1280x720
// camera publishes over WHIP on loopback and reports, every 500 ms, the
// video bitrate it sends and its bandwidth estimate (getStats:
// outbound-rtp bytesSent, targetBitrate, frameWidth and
// qualityLimitationReason per layer; candidate-pair
// availableOutgoingBitrate).
//
//	go run ./rtc/chromebench -runs 3 -for 15s
//
// It publishes the way the web client does: -as live (the default) is a
// live host's camera, three simulcast layers with the client's encodings;
// -as call a call's camera, one layer; -as bare Chrome's defaults. The
// camera shows a busy picture the command writes first (moving noise,
// y4m, looped by Chromium: -picture busy, the default) or Chromium's own
// fake camera (-picture plain), whose flat picture needs too few bits to
// show a ramp. It prints, per run, the load average, when the sent video
// (all layers) first reached 0.5, 1 and 1.5 Mbit/s, when the top layer
// alone sent 1.5 Mbit/s at 1280x720, and the sent rate over time;
// -chrome-log keeps Chromium's log of its encoder's decisions.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"salonbase/rtc"
)

// open lets everyone in: the benchmark measures media, not policy.
type open struct{}

func (open) AuthorizePublish(*http.Request, string) (rtc.Grant, error) { return rtc.Grant{}, nil }
func (open) AuthorizeView(*http.Request, string) (rtc.Grant, error)    { return rtc.Grant{}, nil }
func (open) AuthorizeCall(*http.Request, string) (rtc.Grant, error) {
	return rtc.Grant{}, rtc.Forbidden("no calls")
}
func (open) AuthorizeICE(*http.Request) (rtc.Grant, error) { return rtc.Grant{}, nil }
func (open) StillAllowed(rtc.Grant) bool                   { return true }

// page publishes the fake camera the way the web client does
// (ui/src/lib/live.ts, publish): -as live is a live host's camera (three
// simulcast layers), -as call a call's (one layer), -as bare a plain
// addTransceiver with Chrome's defaults. The encodings and sender
// parameters below are the client's; TestPageMatchesWebClient keeps them
// equal.
const page = `<!doctype html><meta charset="utf-8"><title>chromebench</title><script>
// --- as in ui/src/lib/live.ts
const simulcastLayers = [
  { rid: 'q', scaleResolutionDownBy: 4, maxBitrate: 150_000 },
  { rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { rid: 'f', maxBitrate: 2_500_000 },
];
// --- end
(async () => {
  const as = new URLSearchParams(location.search).get('as');
  const report = o => fetch('/report', {method: 'POST', body: JSON.stringify(o)});
  try {
    const stream = await navigator.mediaDevices.getUserMedia({audio: true,
      video: {width: {exact: 1280}, height: {exact: 720}, frameRate: 30}});
    const pc = new RTCPeerConnection();
    for (const t of stream.getTracks()) {
      const layers = as === 'live' && t.kind === 'video' ? { sendEncodings: simulcastLayers } : {};
      pc.addTransceiver(t, {direction: 'sendonly', ...layers});
    }
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise(r => {
      if (pc.iceGatheringState === 'complete') r();
      pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && r();
    });
    const res = await fetch('/api/rtc/live/bench/whip', {method: 'POST', body: pc.localDescription.sdp,
      headers: {'Content-Type': 'application/sdp'}});
    await pc.setRemoteDescription({type: 'answer', sdp: await res.text()});
    const t0 = performance.now();
    const last = {};
    let lastT = t0;
    setInterval(async () => {
      let avail = 0;
      const layers = [];
      const now = performance.now();
      (await pc.getStats()).forEach(r => {
        if (r.type === 'outbound-rtp' && r.kind === 'video') {
          const key = r.rid || r.ssrc;
          layers.push({rid: r.rid || '', rate: ((r.bytesSent || 0) - (last[key] || 0)) * 8 / ((now - lastT) / 1000),
            w: r.frameWidth || 0, h: r.frameHeight || 0, target: r.targetBitrate || 0, fps: r.framesPerSecond || 0,
            limit: r.qualityLimitationReason || '', durations: r.qualityLimitationDurations || {}, active: r.active !== false});
          last[key] = r.bytesSent || 0;
        }
        if (r.type === 'candidate-pair' && r.nominated && r.availableOutgoingBitrate) avail = r.availableOutgoingBitrate;
      });
      report({t: (now - t0) / 1000, avail, layers, state: pc.connectionState});
      lastT = now;
    }, 500);
  } catch (e) { report({error: String(e)}); }
})();
</script>`

// layer is one outbound video stream (a simulcast layer, or the only one).
type layer struct {
	RID       string             `json:"rid"`
	Rate      float64            `json:"rate"` // bits/s sent since the last sample
	W         int                `json:"w"`
	H         int                `json:"h"`
	Target    float64            `json:"target"` // the encoder's target bitrate
	FPS       float64            `json:"fps"`
	Limit     string             `json:"limit"` // qualityLimitationReason: cpu, bandwidth, none
	Durations map[string]float64 `json:"durations"`
	Active    bool               `json:"active"`
}

type sample struct {
	T      float64 `json:"t"`
	Avail  float64 `json:"avail"`
	Layers []layer `json:"layers"`
	State  string  `json:"state"`
	Error  string  `json:"error"`
}

// rate is the video sent over all layers.
func (s sample) rate() float64 {
	r := 0.0
	for _, l := range s.Layers {
		r += l.Rate
	}
	return r
}

// top is the layer with the largest picture (what a viewer on a good
// network gets).
func (s sample) top() layer {
	var t layer
	for _, l := range s.Layers {
		if l.W > t.W || (l.W == t.W && l.Rate > t.Rate) {
			t = l
		}
	}
	return t
}

func main() {
	runs := flag.Int("runs", 3, "publishes to measure")
	dur := flag.Duration("for", 20*time.Second, "how long each publish is measured")
	browser := flag.String("chromium", "/usr/bin/chromium", "Chromium binary")
	verbose := flag.Bool("v", false, "print every sample")
	remb := flag.Int("remb", 0, "the REMB cap the server sends (bits/s; 0: the default, Config.MaxPublishBitrate)")
	start := flag.Int("start", 0, "the start bitrate the server asks Chrome for (bits/s; 0: the default, Config.StartPublishBitrate; -1: Chrome's own)")
	picture := flag.String("picture", "busy", "the camera's picture: busy (moving noise the command writes) or plain (Chromium's fake camera)")
	as := flag.String("as", "live", "publish as the web client does for a live host's camera (live: simulcast layers), a call's camera (call: one layer), or with Chrome's defaults (bare)")
	chromeLog := flag.String("chrome-log", "", "write Chromium's log (its encoder's decisions: --vmodule=video_stream_encoder*=1,...) to this file")
	flag.Parse()
	if *as != "live" && *as != "call" && *as != "bare" {
		log.Fatalf("-as %q: live, call or bare", *as)
	}
	var camera []string
	switch *picture {
	case "busy":
		dir, err := os.MkdirTemp("", "chromebench-y4m")
		if err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(dir)
		y4m := dir + "/busy.y4m"
		if err := writeBusyPicture(y4m, 1280, 720, 30); err != nil {
			log.Fatalf("busy picture: %v", err)
		}
		camera = []string{"--use-file-for-fake-video-capture=" + y4m}
	case "plain":
	default:
		log.Fatalf("-picture %q: busy or plain", *picture)
	}
	if *chromeLog != "" {
		camera = append(camera, "--enable-logging=stderr", "--v=0",
			"--vmodule=video_stream_encoder*=1,video_stream_adapter*=1,quality_scaler*=1,bitrate_constraint*=1,overuse_frame_detector*=1,simulcast*=1,libvpx_vp8_encoder*=1")
	}
	fmt.Printf("publishing as: %s\n\n", *as)
	fmt.Println("| run | load average | ≥0.5 Mbit/s sent | ≥1 Mbit/s sent | ≥1.5 Mbit/s sent | ≥1.5 Mbit/s sent at 1280x720 | estimate ≥1.5 Mbit/s | sent at 2 / 5 / 10 s (Mbit/s) | sent at the end | estimate at the end | top layer at the end | limited by (s: bandwidth / cpu) |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|---|")
	for i := 1; i <= *runs; i++ {
		if err := run(i, *browser, camera, *dur, *verbose, *remb, *start, *as, *chromeLog); err != nil {
			log.Printf("run %d: %v", i, err)
		}
	}
}

// loadAverage is the 1-minute load average (the machine is shared: it
// says how much CPU Chromium's encoder had).
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}

func run(i int, browser string, camera []string, dur time.Duration, verbose bool, remb, start int, as, chromeLog string) error {
	srv, err := rtc.New(rtc.Config{IncludeLoopback: true, MaxPublishBitrate: remb, StartPublishBitrate: start}, open{}, rtc.Events{}, nil)
	if err != nil {
		return err
	}
	defer srv.Close()
	var mu sync.Mutex
	var samples []sample
	mux := http.NewServeMux()
	mux.Handle("/api/rtc/", srv.Handler())
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, page)
	})
	mux.HandleFunc("POST /report", func(w http.ResponseWriter, r *http.Request) {
		var s sample
		if json.NewDecoder(r.Body).Decode(&s) == nil {
			mu.Lock()
			samples = append(samples, s)
			mu.Unlock()
		}
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: mux}
	go hs.Serve(ln)
	defer hs.Close()

	profile, err := os.MkdirTemp("", "chromebench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(profile)
	args := append([]string{"--headless=new", "--no-sandbox", "--disable-gpu",
		"--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"}, camera...)
	load := loadAverage()
	cmd := exec.Command(browser, append(args, "--user-data-dir="+profile, "http://"+ln.Addr().String()+"/?as="+as)...)
	if chromeLog != "" {
		f, err := os.Create(fmt.Sprintf("%s.%d", chromeLog, i))
		if err != nil {
			return err
		}
		defer f.Close()
		cmd.Stderr = f
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its helpers go with it
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	}()
	// Chromium starts slowly on a loaded machine: the measured time starts
	// at the page's first sample.
	deadline := time.Now().Add(dur + 60*time.Second)
	for time.Now().Before(deadline) {
		time.Sleep(250 * time.Millisecond)
		mu.Lock()
		n := len(samples)
		last := sample{}
		if n > 0 {
			last = samples[n-1]
		}
		mu.Unlock()
		if last.Error != "" {
			return fmt.Errorf("page: %s", last.Error)
		}
		if last.T >= dur.Seconds() {
			break
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(samples) == 0 {
		return fmt.Errorf("no samples from the page")
	}
	first := func(f func(s sample) bool) string {
		for _, s := range samples {
			if f(s) {
				return fmt.Sprintf("%.1f s", s.T)
			}
		}
		return "never"
	}
	if verbose {
		for _, s := range samples {
			var ls []string
			for _, l := range s.Layers {
				ls = append(ls, fmt.Sprintf("%s %dx%d %.0f kbit/s (target %.0f) %.0f fps %s", l.RID, l.W, l.H, l.Rate/1000, l.Target/1000, l.FPS, l.Limit))
			}
			log.Printf("t=%5.1f sent=%6.0f kbit/s estimate=%6.0f kbit/s %s; %s", s.T, s.rate()/1000, s.Avail/1000, s.State, strings.Join(ls, " | "))
		}
	}
	at := func(sec float64) string {
		for _, s := range samples {
			if s.T >= sec {
				return fmt.Sprintf("%.2f", s.rate()/1e6)
			}
		}
		return "–"
	}
	last := samples[len(samples)-1]
	top := last.top()
	fmt.Printf("| %d | %s–%s | %s | %s | %s | %s | %s | %s / %s / %s | %.2f Mbit/s | %.2f Mbit/s | %dx%d %.2f Mbit/s | %s (%.0f / %.0f) |\n", i, load, loadAverage(),
		first(func(s sample) bool { return s.rate() >= 0.5e6 }),
		first(func(s sample) bool { return s.rate() >= 1e6 }),
		first(func(s sample) bool { return s.rate() >= 1.5e6 }),
		first(func(s sample) bool { t := s.top(); return t.W >= 1280 && t.H >= 720 && t.Rate >= 1.5e6 }),
		first(func(s sample) bool { return s.Avail >= 1.5e6 }),
		at(2), at(5), at(10),
		last.rate()/1e6, last.Avail/1e6, top.W, top.H, top.Rate/1e6, top.Limit, top.Durations["bandwidth"], top.Durations["cpu"])
	return nil
}
