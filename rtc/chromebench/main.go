// Command chromebench measures how fast a real browser's publisher ramps
// up against the media server: headless Chromium with a fake 1280x720
// camera publishes over WHIP on loopback and reports, every 500 ms, the
// video bitrate it sends and its bandwidth estimate (getStats:
// outbound-rtp bytesSent, candidate-pair availableOutgoingBitrate).
//
//	go run ./rtc/chromebench -runs 3 -for 20s
//
// It prints when each run first reached 0.5, 1 and 1.5 Mbit/s.
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
	"sync"
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

const page = `<!doctype html><meta charset="utf-8"><title>chromebench</title><script>
(async () => {
  const report = o => fetch('/report', {method: 'POST', body: JSON.stringify(o)});
  try {
    const stream = await navigator.mediaDevices.getUserMedia({audio: true,
      video: {width: {exact: 1280}, height: {exact: 720}, frameRate: 30}});
    const pc = new RTCPeerConnection();
    stream.getTracks().forEach(t => pc.addTransceiver(t, {direction: 'sendonly'}));
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise(r => {
      if (pc.iceGatheringState === 'complete') r();
      pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && r();
    });
    const res = await fetch('/api/rtc/live/bench/whip', {method: 'POST', body: pc.localDescription.sdp,
      headers: {'Content-Type': 'application/sdp'}});
    await pc.setRemoteDescription({type: 'answer', sdp: await res.text()});
    const t0 = performance.now();
    let lastBytes = 0, lastT = t0;
    setInterval(async () => {
      let bytes = 0, avail = 0, w = 0, h = 0, limit = '';
      (await pc.getStats()).forEach(r => {
        if (r.type === 'outbound-rtp' && r.kind === 'video') { bytes = r.bytesSent; w = r.frameWidth; h = r.frameHeight; limit = r.qualityLimitationReason; }
        if (r.type === 'candidate-pair' && r.nominated && r.availableOutgoingBitrate) avail = r.availableOutgoingBitrate;
      });
      const now = performance.now();
      report({t: (now - t0) / 1000, rate: (bytes - lastBytes) * 8 / ((now - lastT) / 1000), avail, w, h, limit,
        state: pc.connectionState});
      lastBytes = bytes; lastT = now;
    }, 500);
  } catch (e) { report({error: String(e)}); }
})();
</script>`

type sample struct {
	T     float64 `json:"t"`
	Rate  float64 `json:"rate"`
	Avail float64 `json:"avail"`
	W     int     `json:"w"`
	H     int     `json:"h"`
	State string  `json:"state"`
	Limit string  `json:"limit"` // qualityLimitationReason: cpu, bandwidth, none
	Error string  `json:"error"`
}

func main() {
	runs := flag.Int("runs", 3, "publishes to measure")
	dur := flag.Duration("for", 20*time.Second, "how long each publish is measured")
	browser := flag.String("chromium", "/usr/bin/chromium", "Chromium binary")
	verbose := flag.Bool("v", false, "print every sample")
	remb := flag.Int("remb", 0, "the REMB cap the server sends (bits/s; 0: the default, Config.MaxPublishBitrate)")
	flag.Parse()
	fmt.Println("| run | resolution at the end | limited by | ≥0.5 Mbit/s sent | ≥1 Mbit/s sent | ≥1.5 Mbit/s sent | estimate ≥1.5 Mbit/s | sent at the end | estimate at the end |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|")
	for i := 1; i <= *runs; i++ {
		if err := run(i, *browser, *dur, *verbose, *remb); err != nil {
			log.Printf("run %d: %v", i, err)
		}
	}
}

func run(i int, browser string, dur time.Duration, verbose bool, remb int) error {
	srv, err := rtc.New(rtc.Config{IncludeLoopback: true, MaxPublishBitrate: remb}, open{}, rtc.Events{}, nil)
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
	cmd := exec.Command(browser, "--headless=new", "--no-sandbox", "--disable-gpu",
		"--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
		"--user-data-dir="+profile, "http://"+ln.Addr().String()+"/")
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	deadline := time.Now().Add(dur + 15*time.Second)
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
			log.Printf("t=%5.1f sent=%6.0f kbit/s estimate=%6.0f kbit/s %dx%d limited by %s, %s", s.T, s.Rate/1000, s.Avail/1000, s.W, s.H, s.Limit, s.State)
		}
	}
	last := samples[len(samples)-1]
	fmt.Printf("| %d | %dx%d | %s | %s | %s | %s | %s | %.2f Mbit/s | %.2f Mbit/s |\n", i, last.W, last.H, last.Limit,
		first(func(s sample) bool { return s.Rate >= 0.5e6 }),
		first(func(s sample) bool { return s.Rate >= 1e6 }),
		first(func(s sample) bool { return s.Rate >= 1.5e6 }),
		first(func(s sample) bool { return s.Avail >= 1.5e6 }),
		last.Rate/1e6, last.Avail/1e6)
	return nil
}
