package rtc_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"salonbase/rtc"
	"salonbase/rtc/rtctest"
)

// The page publishes its fake camera (?w=&h=, default 640×360; no
// microphone, so that what a viewer receives is the video layer alone) in
// three simulcast layers, as the web client's studio does, and reports
// each second what it sends: its bitrate and estimate and each layer's
// frame width.
const simulcastPublisher = `<!doctype html><meta charset="utf-8"><script>
(async () => {
  const log = m => fetch('/page/log', {method: 'POST', body: m});
  const q = new URLSearchParams(location.search);
  const width = +(q.get('w') || 640), height = +(q.get('h') || 360);
  const stream = await navigator.mediaDevices.getUserMedia({video: {width, height, frameRate: 30}});
  const pc = new RTCPeerConnection();
  pc.addTransceiver(stream.getVideoTracks()[0], {direction: 'sendonly', sendEncodings: [
    {rid: 'q', scaleResolutionDownBy: 4, maxBitrate: width > 640 ? 150000 : 60000},
    {rid: 'h', scaleResolutionDownBy: 2, maxBitrate: width > 640 ? 500000 : 250000},
    {rid: 'f', maxBitrate: width > 640 ? 2500000 : 1200000}]});
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise(r => {
    if (pc.iceGatheringState === 'complete') r();
    pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && r();
  });
  const res = await fetch('/api/rtc/live/sim/whip', {method: 'POST', body: pc.localDescription.sdp,
    headers: {'Content-Type': 'application/sdp', Authorization: 'Bearer host'}});
  await pc.setRemoteDescription({type: 'answer', sdp: await res.text()});
  const start = performance.now();
  let last = 0;
  setInterval(async () => {
    let bytes = 0, bwe = 0;
    const layers = {};
    (await pc.getStats()).forEach(r => {
      if (r.type === 'outbound-rtp' && r.kind === 'video') { bytes += r.bytesSent; layers[r.rid] = r.frameWidth || 0; }
      if (r.type === 'candidate-pair' && r.nominated && r.availableOutgoingBitrate) bwe = Math.round(r.availableOutgoingBitrate / 1000);
    });
    log(JSON.stringify({who: 'pub', t: Math.round(performance.now() - start), kbps: Math.round((bytes - last) * 8 / 1000), bwe, layers}));
    last = bytes;
  }, 1000);
})().catch(e => fetch('/page/log', {method: 'POST', body: 'ERR ' + e}));
</script>`

// The page watches the stream twice (ann and bob, each their own WHEP
// connection and <video>) and reports, each second, each one's received
// video: frame width, frames decoded, freezes (Chrome's freezeCount and
// totalFreezesDuration) and the local UDP port of its connection.
const simulcastViewers = `<!doctype html><meta charset="utf-8"><body><script>
const log = m => fetch('/page/log', {method: 'POST', body: m});
const got = {};
const watch = async who => {
  const pc = new RTCPeerConnection();
  pc.addTransceiver('video', {direction: 'recvonly'});
  pc.addTransceiver('audio', {direction: 'recvonly'});
  const video = document.createElement('video');
  video.muted = true; video.autoplay = true; video.playsInline = true;
  document.body.append(video);
  pc.ontrack = e => { video.srcObject = e.streams[0] || new MediaStream([e.track]); video.play().catch(() => {}); };
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise(r => {
    if (pc.iceGatheringState === 'complete') r();
    pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && r();
  });
  const res = await fetch('/api/rtc/live/sim/whep', {method: 'POST', body: pc.localDescription.sdp,
    headers: {'Content-Type': 'application/sdp', Authorization: 'Bearer ' + who}});
  await pc.setRemoteDescription({type: 'answer', sdp: await res.text()});
  setInterval(async () => {
    const s = await pc.getStats();
    const o = {who, port: 0, w: 0, decoded: 0, freezes: 0, frozen: 0, kbps: 0};
    let pair = '';
    s.forEach(r => {
      if (r.type === 'transport') pair = r.selectedCandidatePairId;
      if (r.type === 'inbound-rtp' && r.kind === 'video') {
        o.w = r.frameWidth || 0; o.decoded = r.framesDecoded || 0;
        o.freezes = r.freezeCount || 0; o.frozen = r.totalFreezesDuration || 0;
        o.kbps = Math.round(((r.bytesReceived || 0) - (got[who] || 0)) * 8 / 1000); got[who] = r.bytesReceived || 0;
      }
    });
    const p = s.get(pair);
    if (p) o.port = s.get(p.localCandidateId).port;
    log(JSON.stringify(o));
  }, 1000);
};
watch('ann').catch(e => log('ERR ann ' + e));
watch('bob').catch(e => log('ERR bob ' + e));
</script>`

// pageReport is what the pages log each second (pub: T, Kbps, W).
type pageReport struct {
	Who              string
	Port, W, Decoded int
	Freezes          int
	Frozen           float64
	T, Kbps, BWE     int
	Layers           map[string]int
	At               time.Time `json:"-"`
}

// A Chromium host publishes three simulcast layers; two Chromium viewers
// watch and get the same (upper) layer. Bob's downlink is then limited to
// about half of what that layer needs (tc on the loopback of a network
// namespace made for the test): bob is moved to a lower layer (his frame
// width drops) with no freeze longer than a second, while ann keeps hers.
// Which layers Chrome sends depends on its estimate, which on a busy
// machine may stay below the 640-pixel layer's need: the test uses the
// two highest layers Chrome sends.
//
// It needs root for the namespace (it re-runs itself under unshare --net)
// and SALON_CHROMIUM, like the other browser tests; SALON_SIMULCAST_720P=1
// publishes 1280×720 instead of 640×360.
func TestChromiumSimulcastThrottledViewer(t *testing.T) {
	if os.Getenv("SALON_CHROMIUM") == "" {
		t.Skip("set SALON_CHROMIUM to a Chromium binary to run the browser tests")
	}
	if os.Getenv("SALON_NETNS") == "" {
		// Run this test again inside its own network namespace, where
		// shaping the loopback touches nothing else on the machine.
		cmd := exec.Command("unshare", "--net", os.Args[0], "-test.run=^TestChromiumSimulcastThrottledViewer$", "-test.v", "-test.timeout=4m")
		cmd.Env = append(os.Environ(), "SALON_NETNS=1")
		var out []byte
		var err error
		if os.Getenv("SALON_DEBUG") != "" {
			cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
			err = cmd.Run()
		} else {
			out, err = cmd.CombinedOutput()
		}
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if strings.Contains(line, "simulcast_test.go") || strings.HasPrefix(line, "---") || strings.Contains(line, "FAIL") {
				t.Log(strings.TrimSpace(line))
			}
		}
		if err != nil {
			if strings.Contains(string(out), "unshare failed") || strings.Contains(string(out), "Operation not permitted") {
				t.Skipf("cannot make a network namespace (needs root): %s", out)
			}
			t.Fatalf("in its network namespace: %v", err)
		}
		return
	}
	sh := func(cmdline string) {
		t.Helper()
		f := strings.Fields(cmdline)
		if out, err := exec.Command(f[0], f[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v %s", cmdline, err, out)
		}
	}
	// Loopback, and an address for Chromium's host candidates (packets
	// between local addresses still go through lo).
	sh("ip link set lo up")
	sh("ip link add sv0 type veth peer name sv1")
	sh("ip addr add 10.77.0.1/24 dev sv0")
	sh("ip link set sv0 up")
	sh("ip link set sv1 up")
	sh("tc qdisc add dev lo root handle 1: htb default 10")
	sh("tc class add dev lo parent 1: classid 1:10 htb rate 10gbit")

	e := newEnv(t, rtc.Config{})
	e.stream("sim", "host", "ann", "bob")
	var mu sync.Mutex
	latest, history := map[string]pageReport{}, map[string][]pageReport{}
	var pubLog []pageReport
	go func() {
		for msg := range e.logs {
			var r pageReport
			if json.Unmarshal([]byte(msg), &r) != nil {
				continue
			}
			r.At = time.Now()
			mu.Lock()
			latest[r.Who] = r
			history[r.Who] = append(history[r.Who], r)
			if r.Who == "pub" {
				pubLog = append(pubLog, r)
			}
			mu.Unlock()
		}
	}()
	get := func(who string) pageReport {
		mu.Lock()
		defer mu.Unlock()
		return latest[who]
	}
	e.pages.Store("pub", simulcastPublisher)
	e.pages.Store("view", simulcastViewers)
	page := "/page/pub"
	if os.Getenv("SALON_SIMULCAST_720P") != "" {
		page += "?w=1280&h=720"
	}
	chromium(t, e.url+page)
	rtctest.Eventually(t, 60*time.Second, "the browser is live", func() bool { return e.log.has("live sim by host") })
	rtctest.Eventually(t, 60*time.Second, "the publisher sends two layers or more", func() bool {
		n := 0
		for _, w := range get("pub").Layers {
			if w > 0 {
				n++
			}
		}
		return n >= 2
	})
	mu.Lock()
	for _, r := range pubLog {
		if r.Kbps >= 1500 {
			t.Logf("the publisher sent ≥ 1.5 Mbit/s (%d kbit/s) %.1f s after it started", r.Kbps, float64(r.T)/1000)
			break
		}
	}
	mu.Unlock()

	chromium(t, e.url+"/page/view")
	lowest := func() int {
		low := 0
		for _, w := range get("pub").Layers {
			if w > 0 && (low == 0 || w < low) {
				low = w
			}
		}
		return low
	}
	rtctest.Eventually(t, 60*time.Second, "both viewers decode the same layer, above the lowest", func() bool {
		a, b := get("ann"), get("bob")
		return a.W == b.W && a.W > lowest() && b.Port > 0 && b.Kbps > 0
	})
	time.Sleep(3 * time.Second) // a few seconds of that layer
	before, annBefore := get("bob"), get("ann")
	top := before.W
	limit := max(before.Kbps/2, 40)
	t.Logf("publisher: %d kbit/s, estimate %d kbit/s, layers %v; both viewers get %d px (bob %d kbit/s); bob's link → %d kbit/s",
		get("pub").Kbps, get("pub").BWE, get("pub").Layers, top, before.Kbps, limit)

	// Bob's downlink, with a short queue (25 packets).
	sh(fmt.Sprintf("tc class add dev lo parent 1: classid 1:20 htb rate %dkbit ceil %dkbit burst 6k", limit, limit))
	sh("tc qdisc add dev lo parent 1:20 handle 20: pfifo limit 25")
	sh(fmt.Sprintf("tc filter add dev lo parent 1: protocol ip prio 1 u32 match ip dport %d 0xffff flowid 1:20", before.Port))
	throttled := time.Now()
	rtctest.Eventually(t, 30*time.Second, "bob's picture drops to a lower layer", func() bool {
		r := get("bob")
		return r.At.After(throttled) && r.W > 0 && r.W < top
	})
	t.Logf("bob gets the %d-pixel layer %.1f s after his link slowed; layers %v",
		get("bob").W, time.Since(throttled).Seconds(), e.srv.Layers("sim"))
	time.Sleep(5 * time.Second) // his picture must keep moving on the low layer
	mu.Lock()
	defer mu.Unlock()
	after, ann := latest["bob"], latest["ann"]
	t.Logf("bob: %d frames decoded, %d freezes (%.2f s in all, the longest at most %.2f s) since; ann: %d px, %d freezes (%.2f s)",
		after.Decoded-before.Decoded, after.Freezes-before.Freezes, after.Frozen-before.Frozen, longestFreeze(history["bob"], before.At),
		ann.W, ann.Freezes-annBefore.Freezes, ann.Frozen-annBefore.Frozen)
	if after.W >= top || after.Decoded-before.Decoded < 60 {
		t.Fatalf("bob after the throttle: %+v (before %+v)", after, before)
	}
	if longest := longestFreeze(history["bob"], before.At); longest > 1 {
		t.Fatalf("bob's picture froze up to %.2f s at once across the switch (%d freezes, %.2f s in all)",
			longest, after.Freezes-before.Freezes, after.Frozen-before.Frozen)
	}
	if ann.W != top {
		t.Fatalf("ann lost her layer: %+v", ann)
	}
}

// Chrome applies the server's REMB as an upper bound on its estimate even
// though transport-wide CC feedback drives that estimate, so REMB is what
// caps a simulcast publisher's layers: with a 150 kbit/s cap, Chrome's
// estimate (and what it sends) stays under it.
func TestChromiumPublisherHonoursREMB(t *testing.T) {
	e := newEnv(t, rtc.Config{MaxPublishBitrate: 150_000})
	e.stream("sim", "host")
	var mu sync.Mutex
	var reports []pageReport
	go func() {
		for msg := range e.logs {
			var r pageReport
			if json.Unmarshal([]byte(msg), &r) == nil && r.Who == "pub" {
				mu.Lock()
				reports = append(reports, r)
				mu.Unlock()
			}
		}
	}()
	e.pages.Store("pub", simulcastPublisher)
	chromium(t, e.url+"/page/pub")
	rtctest.Eventually(t, 60*time.Second, "the browser is live", func() bool { return e.log.has("live sim by host") })
	rtctest.Eventually(t, 60*time.Second, "10 s of the publisher's reports", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(reports) > 0 && reports[len(reports)-1].T > 10_000
	})
	mu.Lock()
	defer mu.Unlock()
	var peak int
	for _, r := range reports[len(reports)/2:] {
		peak = max(peak, r.BWE)
	}
	last := reports[len(reports)-1]
	t.Logf("with a 150 kbit/s REMB: estimate at most %d kbit/s over the last half, sending %d kbit/s", peak, last.Kbps)
	if peak == 0 || peak > 160 {
		t.Fatalf("Chrome's estimate went to %d kbit/s over a 150 kbit/s REMB", peak)
	}
}

// longestFreeze bounds a viewer's longest freeze since from: Chrome adds a
// freeze to totalFreezesDuration when it ends, so between two reports a
// second apart the added duration is one freeze's, or (when several ended)
// at least the longest's.
func longestFreeze(reports []pageReport, from time.Time) float64 {
	longest := 0.0
	for i := 1; i < len(reports); i++ {
		if reports[i].At.Before(from) {
			continue
		}
		longest = max(longest, reports[i].Frozen-reports[i-1].Frozen)
	}
	return longest
}
