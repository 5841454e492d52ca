package rtc_test

import (
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"

	"salonbase/rtc"
	"salonbase/rtc/rtctest"
)

// The page watches stream "vr" in Chromium and reports, ten times a
// second, the frames it decoded and Chrome's freeze count and total.
const reportingViewer = `<!doctype html><meta charset="utf-8"><body><script>
const log = m => fetch('/page/log', {method: 'POST', body: m});
(async () => {
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
  const res = await fetch('/api/rtc/live/vr/whep', {method: 'POST', body: pc.localDescription.sdp,
    headers: {'Content-Type': 'application/sdp', Authorization: 'Bearer ann'}});
  await pc.setRemoteDescription({type: 'answer', sdp: await res.text()});
  setInterval(async () => {
    const o = {who: 'ann', decoded: 0, freezes: 0, frozen: 0};
    (await pc.getStats()).forEach(r => {
      if (r.type === 'inbound-rtp' && r.kind === 'video') {
        o.decoded = r.framesDecoded || 0; o.freezes = r.freezeCount || 0; o.frozen = r.totalFreezesDuration || 0;
      }
    });
    log(JSON.stringify(o));
  }, 100);
})().catch(e => log('ERR ' + e));
</script>`

// A Chromium viewer watches a single-layer stream whose publisher reloads
// (its connection closes, a new one publishes within the grace window).
// The new publisher numbers its VP8 pictures from its own start; with the
// numbers rewritten to follow the old ones, Chrome decodes the new
// publisher's frames as they come. The test logs how long after the new
// publish Chrome decodes again and Chrome's longest freeze.
func TestChromiumViewerThroughPublisherReload(t *testing.T) {
	e := newEnv(t, rtc.Config{RejoinGrace: 5 * time.Second})
	e.stream("vr", "host", "ann")
	pub := e.goLive(t, "vr", "host")
	var mu sync.Mutex
	var reports []pageReport
	go func() {
		for msg := range e.logs {
			var r pageReport
			if json.Unmarshal([]byte(msg), &r) != nil {
				continue
			}
			r.At = time.Now()
			mu.Lock()
			reports = append(reports, r)
			mu.Unlock()
		}
	}()
	last := func() pageReport {
		mu.Lock()
		defer mu.Unlock()
		if len(reports) == 0 {
			return pageReport{}
		}
		return reports[len(reports)-1]
	}
	e.pages.Store("watch", reportingViewer)
	chromium(t, e.url+"/page/watch")
	// Long enough for the old publisher's PictureIDs to be far from a
	// new one's first.
	rtctest.Eventually(t, 60*time.Second, "Chromium decodes 90 frames", func() bool { return last().Decoded >= 90 })

	pub.Close()
	rtctest.Eventually(t, 10*time.Second, "the publisher's session gone", func() bool { return e.srv.Stats().Sessions == 1 })
	stopped := last().Decoded
	start := time.Now()
	pub2 := rtctest.Publish(t, e.url+"/api/rtc/live/vr/whip", "host")
	if pub2.Result.Status != http.StatusCreated {
		t.Fatalf("publish again: %d %s", pub2.Result.Status, pub2.Result.Body)
	}
	rtctest.Eventually(t, 30*time.Second, "Chromium decodes the new publisher's frames", func() bool {
		return last().Decoded > stopped+3
	})
	back := time.Since(start)
	rtctest.Eventually(t, 30*time.Second, "Chromium decodes 60 more", func() bool { return last().Decoded > stopped+60 })
	mu.Lock()
	from := 0
	for from < len(reports) && reports[from].At.Before(start) {
		from++
	}
	longest := longestFreeze(reports[max(0, from-1):], start)
	mu.Unlock()
	t.Logf("decoding again %d ms after the new publish; longest freeze since %.2f s (the reload's gap included)",
		back.Milliseconds(), longest)
	if e.log.has("ended vr") {
		t.Fatal("the reload ended the stream")
	}
}
