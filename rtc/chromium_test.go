package rtc_test

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"salonbase/rtc"
	"salonbase/rtc/rtctest"
)

// Tests with a real browser run when SALON_CHROMIUM names a Chromium
// binary (SALON_CHROMIUM=/usr/bin/chromium go test ./rtc -run Chromium);
// `go test ./...` needs nothing but Go, so they skip without it.
func chromium(t *testing.T, url string) {
	t.Helper()
	bin := os.Getenv("SALON_CHROMIUM")
	if bin == "" {
		t.Skip("set SALON_CHROMIUM to a Chromium binary to run the browser tests")
	}
	cmd := exec.Command(bin, "--headless=new", "--no-sandbox", "--disable-gpu",
		"--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
		"--user-data-dir="+t.TempDir(), url)
	// Its own process group: Chromium's renderer and helper processes
	// outlive a kill of the browser process alone, and kept writing to the
	// profile directory while the test removed it (the test then failed).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if syscall.Kill(-cmd.Process.Pid, 0) != nil {
				return // the whole group is gone
			}
		}
	})
}

// The page publishes its fake camera over WHIP and, on its first load,
// reloads itself after a few seconds: what a host pressing F5 does.
const reloadingPublisher = `<!doctype html><meta charset="utf-8"><script>
(async () => {
  const stream = await navigator.mediaDevices.getUserMedia({audio: true, video: {width: 640, height: 360}});
  const pc = new RTCPeerConnection();
  stream.getTracks().forEach(t => pc.addTransceiver(t, {direction: 'sendonly'}));
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise(r => {
    if (pc.iceGatheringState === 'complete') r();
    pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && r();
  });
  const res = await fetch('/api/rtc/live/cr/whip', {method: 'POST', body: pc.localDescription.sdp,
    headers: {'Content-Type': 'application/sdp', Authorization: 'Bearer host'}});
  await pc.setRemoteDescription({type: 'answer', sdp: await res.text()});
  if (!sessionStorage.getItem('reloaded')) {
    sessionStorage.setItem('reloaded', '1');
    setTimeout(() => location.reload(), 6000);
  }
})();
</script>`

// A host in Chromium reloads the page while a viewer watches: Chrome
// closes its connection (DTLS close_notify), the reloaded page publishes
// again, and the viewer keeps one continuous track and decodes the new
// connection's keyframes; the stream never ends.
func TestChromiumPublisherReload(t *testing.T) {
	e := newEnv(t, rtc.Config{})
	e.stream("cr", "host", "ann")
	e.pages.Store("publish", reloadingPublisher)
	chromium(t, e.url+"/page/publish")
	rtctest.Eventually(t, 30*time.Second, "the browser is live", func() bool { return e.log.has("live cr by host") })
	ann := rtctest.View(t, e.url+"/api/rtc/live/cr/whep", "ann")
	rtctest.Eventually(t, 20*time.Second, "ann decodes the browser's picture", func() bool {
		return len(ann.Stats().Keyframes) > 0
	})
	// The reload: the publisher's session goes, another comes.
	rtctest.Eventually(t, 30*time.Second, "the browser's connection closed", func() bool { return e.srv.Stats().Sessions == 1 })
	gone := time.Now()
	before := len(ann.Stats().Keyframes)
	rtctest.Eventually(t, 30*time.Second, "ann decodes the reloaded page's picture", func() bool {
		return len(ann.Stats().Keyframes) > before
	})
	t.Logf("picture back %.1f s after the old connection closed", time.Since(gone).Seconds())
	s := ann.Stats()
	if s.DecodeErr != nil || s.State != webrtc.PeerConnectionStateConnected {
		t.Fatalf("ann after the reload: %v %s", s.DecodeErr, s.State)
	}
	checkContinuous(t, ann, "ann")
	if e.log.has("ended cr") {
		t.Fatal("the reload ended the stream")
	}
}

// The page publishes through the built-in TURN server only
// (iceTransportPolicy "relay"), with the ICE servers the API hands out.
const relayPublisher = `<!doctype html><meta charset="utf-8"><script>
(async () => {
  const auth = {Authorization: 'Bearer host'};
  const {iceServers} = await (await fetch('/api/rtc/ice-servers', {headers: auth})).json();
  const stream = await navigator.mediaDevices.getUserMedia({audio: true, video: {width: 640, height: 360}});
  const pc = new RTCPeerConnection({iceServers, iceTransportPolicy: 'relay'});
  stream.getTracks().forEach(t => pc.addTransceiver(t, {direction: 'sendonly'}));
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise(r => {
    if (pc.iceGatheringState === 'complete') r();
    pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && r();
  });
  const res = await fetch('/api/rtc/live/tu/whip', {method: 'POST', body: pc.localDescription.sdp,
    headers: {'Content-Type': 'application/sdp', ...auth}});
  const log = m => fetch('/page/log', {method: 'POST', body: m});
  log("WHIP " + res.status);
  await pc.setRemoteDescription({type: 'answer', sdp: await res.text()});
  pc.oniceconnectionstatechange = () => log("ICE " + pc.iceConnectionState);
  pc.onconnectionstatechange = () => log("STATE " + pc.connectionState);
})().catch(e => fetch('/page/log', {method: 'POST', body: "ERR " + e}));
</script>`

// A browser that may only use a relay goes live through the built-in TURN
// server, and a viewer decodes its picture.
func TestChromiumPublishesThroughBuiltinTURN(t *testing.T) {
	e := newEnv(t, rtc.Config{TURNPort: freeUDPPort(t)})
	e.stream("tu", "host", "ann")
	e.pages.Store("relay", relayPublisher)
	chromium(t, e.url+"/page/relay")
	rtctest.Eventually(t, 30*time.Second, "the relayed browser is live", func() bool { return e.log.has("live tu by host") })
	ann := rtctest.View(t, e.url+"/api/rtc/live/tu/whep", "ann")
	rtctest.Eventually(t, 20*time.Second, "ann decodes the relayed picture", func() bool {
		return len(ann.Stats().Keyframes) > 0
	})
	if err := ann.Stats().DecodeErr; err != nil {
		t.Fatal(err)
	}
}

// The page watches over WHEP and, after a few seconds, restarts ICE the
// way a WHEP player does after a network change (RFC 9725 §4.3): a new
// offer with new credentials, its ICE part as an SDP fragment in a PATCH,
// the server's fragment in place of the old ICE part of the answer. It
// reports the frames it decoded before and after.
const restartingViewer = `<!doctype html><meta charset="utf-8"><script>
(async () => {
  const log = m => fetch('/page/log', {method: 'POST', body: m});
  const pc = new RTCPeerConnection();
  pc.addTransceiver('video', {direction: 'recvonly'});
  pc.addTransceiver('audio', {direction: 'recvonly'});
  const gathered = () => new Promise(r => {
    if (pc.iceGatheringState === 'complete') r();
    pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && r();
  });
  await pc.setLocalDescription(await pc.createOffer());
  await gathered();
  const res = await fetch('/api/rtc/live/rs/whep', {method: 'POST', body: pc.localDescription.sdp,
    headers: {'Content-Type': 'application/sdp', Authorization: 'Bearer ann'}});
  const location = res.headers.get('Location');
  await pc.setRemoteDescription({type: 'answer', sdp: await res.text()});
  const decoded = async () => {
    let n = 0;
    (await pc.getStats()).forEach(r => { if (r.type === 'inbound-rtp' && r.kind === 'video') n = r.framesDecoded; });
    return n;
  };
  const wait = ms => new Promise(r => setTimeout(r, ms));
  while (await decoded() < 30) await wait(200);
  const before = await decoded();

  pc.restartIce();
  await pc.setLocalDescription(await pc.createOffer());
  await gathered();
  const lines = pc.localDescription.sdp.split('\r\n');
  const first = l => lines.find(x => x.startsWith(l));
  const m = lines.findIndex(x => x.startsWith('m='));
  const next = lines.findIndex((x, i) => i > m && x.startsWith('m='));
  const cands = lines.slice(m, next).filter(x => x.startsWith('a=candidate:'));
  const frag = [first('a=ice-ufrag:'), first('a=ice-pwd:'), lines[m], first('a=mid:'), ...cands, 'a=end-of-candidates', ''].join('\r\n');
  const patch = await fetch(location, {method: 'PATCH', body: frag,
    headers: {'Content-Type': 'application/trickle-ice-sdpfrag', 'If-Match': '*'}});
  const answer = await patch.text();
  const got = answer.split('\r\n');
  const remote = pc.currentRemoteDescription.sdp.split('\r\n').filter(x => x && !x.startsWith('a=candidate:') && x !== 'a=end-of-candidates');
  const sdp = [];
  let placed = false;
  for (const x of remote) {
    if (x.startsWith('a=ice-ufrag:')) sdp.push(got.find(g => g.startsWith('a=ice-ufrag:')));
    else if (x.startsWith('a=ice-pwd:')) sdp.push(got.find(g => g.startsWith('a=ice-pwd:')));
    else sdp.push(x);
    if (x.startsWith('a=mid:') && !placed) { sdp.push(...got.filter(g => g.startsWith('a=candidate:'))); placed = true; }
  }
  await pc.setRemoteDescription({type: 'answer', sdp: sdp.join('\r\n') + '\r\n'});
  const restarted = performance.now();
  while (await decoded() < before + 30) await wait(100);
  log(JSON.stringify({patch: patch.status, before, after: await decoded(),
    back: Math.round(performance.now() - restarted), ice: pc.iceConnectionState}));
})().catch(e => fetch('/page/log', {method: 'POST', body: 'ERR ' + e}));
</script>`

// A Chromium viewer restarts ICE with a PATCH and keeps decoding.
func TestChromiumViewerICERestart(t *testing.T) {
	e := newEnv(t, rtc.Config{})
	e.stream("rs", "host", "ann")
	e.goLive(t, "rs", "host")
	var result struct {
		Patch, Before, After, Back int
		ICE                        string
	}
	e.pages.Store("restart", restartingViewer)
	chromium(t, e.url+"/page/restart")
	select {
	case msg := <-e.logs:
		if err := json.Unmarshal([]byte(msg), &result); err != nil {
			t.Fatalf("page: %s", msg)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the page reported nothing")
	}
	if result.Patch != http.StatusOK || result.After < result.Before+30 {
		t.Fatalf("after the ICE restart: %+v", result)
	}
	t.Logf("30 more frames decoded %d ms after the restart (ICE %s)", result.Back, result.ICE)
}
