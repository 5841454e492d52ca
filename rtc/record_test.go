package rtc_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"salonbase/rtc"
	"salonbase/rtc/rtctest"
)

// recordingAuthz records every stream it lets publish.
type recordingAuthz struct{ *testAuthz }

func (a recordingAuthz) AuthorizePublish(r *http.Request, id string) (rtc.Grant, error) {
	g, err := a.testAuthz.AuthorizePublish(r, id)
	g.Record = true
	return g, err
}

// recordEnv is a media server that records, with its files in a temp dir;
// recorded receives each finished file (the test owns it).
func recordEnv(t *testing.T, page string) (url string, srv *rtc.Server, authz *testAuthz, live chan struct{}, recorded chan string) {
	t.Helper()
	live = make(chan struct{}, 4)
	authz = newAuthz()
	recorded = make(chan string, 4)
	var err error
	srv, err = rtc.New(rtc.Config{IncludeLoopback: true, RecordDir: t.TempDir(), RecheckInterval: 200 * time.Millisecond},
		recordingAuthz{authz}, rtc.Events{StreamRecorded: func(_, path string) { recorded <- path }, StreamLive: func(string, rtc.Grant) { live <- struct{}{} }}, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/api/rtc/", srv.Handler())
	mux.HandleFunc("GET /page", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, page)
	})
	hs := httptest.NewServer(mux)
	t.Cleanup(func() {
		hs.Close()
		srv.Close()
	})
	return hs.URL, srv, authz, live, recorded
}

// endAndInspect ends stream id and reads the recording it hands over.
func endAndInspect(t *testing.T, srv *rtc.Server, id string, recorded chan string) rtc.RecordingInfo {
	t.Helper()
	srv.EndStream(id)
	select {
	case path := <-recorded:
		t.Cleanup(func() { os.Remove(path) })
		return inspect(t, path)
	case <-time.After(15 * time.Second):
		t.Fatal("no recording")
		return rtc.RecordingInfo{}
	}
}

func inspect(t *testing.T, path string) rtc.RecordingInfo {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	info, err := rtc.InspectRecording(f)
	if err != nil {
		t.Fatal(err)
	}
	return info
}

// A Pion publisher's stream (VP8 + Opus) is recorded whole: both tracks,
// in order, starting together, as long as it was live.
func TestPionPublisherIsRecorded(t *testing.T) {
	url, srv, authz, _, recorded := recordEnv(t, "")
	authz.hosts["rec"] = "host"
	pub := rtctest.Publish(t, url+"/api/rtc/live/rec/whip", "host")
	if pub.Result.Status != http.StatusCreated {
		t.Fatalf("publish: %d %s", pub.Result.Status, pub.Result.Body)
	}
	time.Sleep(4 * time.Second)
	info := endAndInspect(t, srv, "rec", recorded)
	v, a := info.Track("V_VP8"), info.Track("A_OPUS")
	if v == nil || a == nil {
		t.Fatalf("tracks: %+v", info.Tracks)
	}
	if v.Width != 64 || v.Height != 64 || v.Keyframes == 0 || v.Blocks < 60 || a.Blocks < 100 || !v.Ordered || !a.Ordered {
		t.Fatalf("video %+v, audio %+v", *v, *a)
	}
	// Both tracks start and end together (the publisher sends both all along).
	if d := (a.First - v.First).Abs(); d > 300*time.Millisecond {
		t.Errorf("audio starts %s away from video", d)
	}
	if d := (a.Last - v.Last).Abs(); d > 300*time.Millisecond {
		t.Errorf("audio ends %s away from video", d)
	}
	if info.Duration < 2*time.Second || info.Duration > 5*time.Second {
		t.Errorf("duration %s for a stream live about 4 s", info.Duration)
	}
}

const recordedPublisher = `<!doctype html><meta charset="utf-8"><script>
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
})();
</script>`

// Chromium's fake camera and microphone are recorded, at the size Chrome sends.
func TestChromiumPublisherIsRecorded(t *testing.T) {
	url, srv, authz, live, recorded := recordEnv(t, recordedPublisher)
	authz.hosts["cr"] = "host"
	chromium(t, url+"/page")
	select {
	case <-live:
	case <-time.After(30 * time.Second):
		t.Fatal("Chromium's stream did not go live")
	}
	time.Sleep(8 * time.Second)
	info := endAndInspect(t, srv, "cr", recorded)
	var codecs []string
	for _, tr := range info.Tracks {
		codecs = append(codecs, tr.Codec)
	}
	t.Logf("recording: %s, tracks %+v", info.Duration, info.Tracks)
	v, a := info.Track("V_VP8"), info.Track("A_OPUS")
	if v == nil || a == nil {
		t.Fatalf("tracks: %s", strings.Join(codecs, ", "))
	}
	// Chrome starts below the captured 640x360 when its first bandwidth
	// estimate is low (320x180 in one CI run): the file carries the size
	// Chrome sent, in the camera's shape.
	if v.Width < 160 || v.Width > 640 || v.Width*9 != v.Height*16 || v.Blocks < 30 || a.Blocks < 100 {
		t.Fatalf("video %dx%d %d blocks, audio %d blocks", v.Width, v.Height, v.Blocks, a.Blocks)
	}
}
