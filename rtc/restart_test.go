package rtc_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"salonbase/rtc"
	"salonbase/rtc/rtctest"
)

// A viewer whose network changes restarts ICE with a PATCH (RFC 9725):
// the connection moves to its new address and the picture continues.
func TestViewerICERestart(t *testing.T) {
	e := newEnv(t, rtc.Config{})
	e.stream("ir", "host", "ann")
	e.goLive(t, "ir", "host")
	ann := rtctest.View(t, e.url+"/api/rtc/live/ir/whep", "ann")
	waitPicture(t, ann, "ann")
	if ann.Result.Header.Get("ETag") == "" || ann.Result.Header.Get("Accept-Patch") != "application/trickle-ice-sdpfrag" {
		t.Fatalf("201 headers: %v", ann.Result.Header)
	}
	oldPort := rtctest.SelectedLocalPort(ann.PC)

	res := rtctest.RestartICE(t, ann.PC, e.url+ann.Result.Location)
	if res.Status != http.StatusOK || res.Header.Get("Content-Type") != "application/trickle-ice-sdpfrag" ||
		!strings.Contains(res.Body, "a=ice-ufrag:") || !strings.Contains(res.Body, "a=candidate:") {
		t.Fatalf("restart: %d %v %s", res.Status, res.Header, res.Body)
	}
	if res.Header.Get("ETag") == ann.Result.Header.Get("ETag") {
		t.Fatal("the ETag did not change with the ICE credentials")
	}
	rtctest.Eventually(t, 10*time.Second, "a new candidate pair", func() bool {
		p := rtctest.SelectedLocalPort(ann.PC)
		return p != 0 && p != oldPort
	})
	frames := ann.Stats().Frames
	rtctest.Eventually(t, 10*time.Second, "frames after the restart", func() bool { return ann.Stats().Frames > frames+10 })
	if s := ann.Stats(); s.State != webrtc.PeerConnectionStateConnected || s.DecodeErr != nil {
		t.Fatalf("after the restart: %s %v", s.State, s.DecodeErr)
	}
	// A stale ETag is refused; so are a wrong type and an unknown session.
	stale := ann.Result.Header.Get("ETag")
	r := doWith(t, http.MethodPatch, e.url+ann.Result.Location, "application/trickle-ice-sdpfrag", "a=end-of-candidates\r\n", map[string]string{"If-Match": stale})
	if r.Status != http.StatusPreconditionFailed {
		t.Fatalf("stale ETag: %d %s", r.Status, r.Body)
	}
	if r := rtctest.Do(t, http.MethodPatch, e.url+ann.Result.Location, "", "application/sdp", "v=0"); r.Status != http.StatusUnsupportedMediaType {
		t.Fatalf("wrong type: %d", r.Status)
	}
	if r := rtctest.Do(t, http.MethodPatch, e.url+"/api/rtc/live/ir/whep/0123", "", "application/trickle-ice-sdpfrag", ""); r.Status != http.StatusNotFound {
		t.Fatalf("unknown session: %d", r.Status)
	}
	// Trickled candidates alone: 204.
	frag := rtctest.ICEFragment(t, ann.PC.LocalDescription().SDP)
	var lines []string
	for _, l := range strings.Split(frag, "\r\n") {
		if !strings.HasPrefix(l, "a=ice-") {
			lines = append(lines, l)
		}
	}
	if r := rtctest.Do(t, http.MethodPatch, e.url+ann.Result.Location, "", "application/trickle-ice-sdpfrag", strings.Join(lines, "\r\n")); r.Status != http.StatusNoContent {
		t.Fatalf("trickle: %d %s", r.Status, r.Body)
	}
}

// Both parties of a call restart ICE (both moved networks): the call
// continues in both directions.
func TestCallICERestart(t *testing.T) {
	e := newEnv(t, rtc.Config{})
	e.authz.mu.Lock()
	e.authz.calls["ci"] = [2]string{"ann", "bob"}
	e.authz.mu.Unlock()
	base := e.url + "/api/rtc/calls/ci/"
	annOut := rtctest.Publish(t, base+"publish", "ann")
	bobIn := rtctest.View(t, base+"subscribe", "bob")
	waitPicture(t, bobIn, "bob sees ann")

	for _, c := range []struct {
		pc  *webrtc.PeerConnection
		loc string
	}{{annOut.PC, annOut.Result.Location}, {bobIn.PC, bobIn.Result.Location}} {
		if res := rtctest.RestartICE(t, c.pc, e.url+c.loc); res.Status != http.StatusOK {
			t.Fatalf("restart %s: %d %s", c.loc, res.Status, res.Body)
		}
	}
	frames := bobIn.Stats().Frames
	rtctest.Eventually(t, 10*time.Second, "bob keeps receiving ann", func() bool { return bobIn.Stats().Frames > frames+10 })
	checkContinuous(t, bobIn, "bob")
	if e.log.has("left ci ann") {
		t.Fatal("the restart was reported as leaving")
	}
}

func doWith(t *testing.T, method, url, ct, body string, hdr map[string]string) rtctest.Result {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", ct)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	return rtctest.Result{Status: res.StatusCode, Header: res.Header}
}

// A restart (Close, then a new server) does not end a live stream: the
// new server awaits its publisher for RejoinGrace. The host publishes
// again and viewers watch; a stream whose host does not come back ends.
func TestRestartKeepsLiveStream(t *testing.T) {
	cfg := rtc.Config{RejoinGrace: 3 * time.Second}
	old := newEnv(t, cfg)
	old.stream("rs", "host", "ann")
	old.goLive(t, "rs", "host")
	if err := old.srv.Close(); err != nil {
		t.Fatal(err)
	}
	if old.log.has("ended rs") {
		t.Fatalf("closing the server ended the stream: %v", old.log.events_())
	}

	e := newEnv(t, cfg)
	e.stream("rs", "host", "ann")
	e.stream("gone", "host2", "ann")
	e.srv.AwaitStream("rs")
	e.srv.AwaitStream("gone")
	// not live again yet: viewers are told to wait
	if v := rtctest.View(t, e.url+"/api/rtc/live/rs/whep", "ann"); v.Result.Status != http.StatusConflict {
		t.Fatalf("view before the host is back: %d", v.Result.Status)
	}
	e.goLive(t, "rs", "host")
	ann := rtctest.View(t, e.url+"/api/rtc/live/rs/whep", "ann")
	waitPicture(t, ann, "ann")
	rtctest.Eventually(t, 10*time.Second, "the stream whose host stayed away ends", func() bool { return e.log.has("ended gone") })
	time.Sleep(cfg.RejoinGrace) // past the window of the one that came back
	if e.log.has("ended rs") {
		t.Fatalf("the resumed stream ended: %v", e.log.events_())
	}
	frames := ann.Stats().Frames
	rtctest.Eventually(t, 10*time.Second, "ann keeps decoding", func() bool { return ann.Stats().Frames > frames+10 })
}
