package rtc_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"salonbase/rtc"
	"salonbase/rtc/rtctest"
)

// The server sends transport-wide congestion control feedback on what a
// publisher sends (what lets a browser's estimate ramp up within seconds)
// and a REMB with its cap.
func TestPublisherGetsCongestionFeedback(t *testing.T) {
	e := newEnv(t, rtc.Config{MaxPublishBitrate: 2_500_000})
	e.stream("cc", "host", "ann")
	pub := e.goLive(t, "cc", "host")
	rtctest.Eventually(t, 10*time.Second, "TWCC feedback acknowledging packets", func() bool {
		reports, acked := pub.TWCC()
		return reports >= 5 && acked >= 50
	})
	rtctest.Eventually(t, 5*time.Second, "REMB with the cap", func() bool { return pub.REMB() == 2_500_000 })
}

// checkContinuous fails unless every video packet the viewer got carries
// one SSRC, sequence numbers without jumps, and timestamps that never go
// back: one stream, whatever happened to its publishers.
func checkContinuous(t *testing.T, v *rtctest.Viewer, who string) {
	t.Helper()
	pkts := v.VideoPackets()
	if len(pkts) < 2 {
		t.Fatalf("%s: %d video packets", who, len(pkts))
	}
	for i := 1; i < len(pkts); i++ {
		a, b := pkts[i-1], pkts[i]
		if a.SSRC != b.SSRC {
			t.Fatalf("%s: SSRC changed %d → %d at packet %d", who, a.SSRC, b.SSRC, i)
		}
		// Loopback: nothing lost or reordered beyond a few packets.
		if d := int16(b.Seq - a.Seq); d < -8 || d > 8 || d == 0 {
			t.Fatalf("%s: sequence number jumps %d → %d at packet %d", who, a.Seq, b.Seq, i)
		}
		if d := int32(b.TS - a.TS); d < -90000 || d > 30*90000 {
			t.Fatalf("%s: timestamp jumps %d → %d at packet %d", who, a.TS, b.TS, i)
		}
	}
}

// checkPictureIDs fails unless the VP8 PictureIDs the viewer got go up by
// one frame at a time (a few packets of reordering allowed): a new
// publisher numbers its pictures from its own start, and a browser waits
// for the pictures "missing" in a jump before it shows the next.
func checkPictureIDs(t *testing.T, v *rtctest.Viewer, who string) {
	t.Helper()
	pkts := v.VideoPackets()
	prev, n := -1, 0
	for i, p := range pkts {
		if p.PictureID < 0 {
			continue
		}
		n++
		if prev >= 0 {
			mask := 0x7fff
			if prev&(1<<16) != 0 || p.PictureID&(1<<16) != 0 {
				mask = 0x7f // a 7-bit one is compared in its own width
			}
			if d := (p.PictureID - prev) & mask; d > 3 && d < mask-3 {
				t.Fatalf("%s: PictureID jumps %d → %d at packet %d", who, prev&0x7fff, p.PictureID&0x7fff, i)
			}
		}
		prev = p.PictureID
	}
	if n < 2 {
		t.Fatalf("%s: %d packets with a PictureID", who, n)
	}
}

// waitFrames waits until v has got n more video frames (PictureIDs) of the
// current publisher, so that a new one's numbers would not follow by chance.
func waitFrames(t *testing.T, v *rtctest.Viewer, n int) {
	t.Helper()
	from := len(v.VideoPackets())
	rtctest.Eventually(t, 10*time.Second, fmt.Sprintf("%d more frames", n), func() bool {
		seen := map[int]bool{}
		for _, p := range v.VideoPackets()[from:] {
			seen[p.PictureID] = true
		}
		return len(seen) >= n
	})
}

// A host who reloads (connection closed, a new WHIP within the grace
// window) keeps the stream: viewers stay connected and receive the new
// connection's media as the same continuous track. Once the host stays
// away longer than the window, the stream ends as before.
func TestPublisherReloadKeepsViewers(t *testing.T) {
	e := newEnv(t, rtc.Config{RejoinGrace: 3 * time.Second})
	e.stream("r1", "host", "ann")
	pub := e.goLive(t, "r1", "host")
	ann := rtctest.View(t, e.url+"/api/rtc/live/r1/whep", "ann")
	waitPicture(t, ann, "ann")
	waitFrames(t, ann, 20)

	pub.Close() // the reload: DTLS close_notify
	rtctest.Eventually(t, 5*time.Second, "the publisher's session gone", func() bool { return e.srv.Stats().Sessions == 1 })
	before := len(ann.Stats().Keyframes)
	pub2 := rtctest.Publish(t, e.url+"/api/rtc/live/r1/whip", "host")
	if pub2.Result.Status != http.StatusCreated {
		t.Fatalf("publish again within the window: %d %s", pub2.Result.Status, pub2.Result.Body)
	}
	rtctest.Eventually(t, 10*time.Second, "ann decodes the new connection's keyframe", func() bool {
		return len(ann.Stats().Keyframes) > before
	})
	s := ann.Stats()
	if err := rtctest.CheckPicture(s.Keyframes[len(s.Keyframes)-1]); err != nil {
		t.Fatal(err)
	}
	if s.DecodeErr != nil || s.State != webrtc.PeerConnectionStateConnected {
		t.Fatalf("ann after the reload: %v %s", s.DecodeErr, s.State)
	}
	if pub2.PLIs() == 0 {
		t.Fatal("the new publisher was not asked for a keyframe")
	}
	checkContinuous(t, ann, "ann")
	checkPictureIDs(t, ann, "ann")
	if e.log.has("ended r1") || !e.log.has("live r1 by host") {
		t.Fatalf("events: %v", e.log.events_())
	}

	// Gone for longer than the window: the stream ends, viewers too.
	pub2.Close()
	rtctest.Eventually(t, 10*time.Second, "stream ended after the window", func() bool { return e.log.has("ended r1") })
	rtctest.Eventually(t, 5*time.Second, "viewer disconnected", func() bool { return e.srv.Stats().Sessions == 0 })
	late := rtctest.Publish(t, e.url+"/api/rtc/live/r1/whip", "host")
	if late.Result.Status != http.StatusCreated {
		t.Fatalf("a new stream on the same record: %d %s", late.Result.Status, late.Result.Body)
	}
	if v := rtctest.View(t, e.url+"/api/rtc/live/r1/whep", "ann"); v.Result.Status != http.StatusConflict && v.Result.Status != http.StatusCreated {
		t.Fatalf("view: %d", v.Result.Status)
	}
}

// A second connection of the publisher (another tab or device) replaces
// the first at once; viewers follow without a gap in the track.
func TestPublisherMoveKeepsTrackContinuous(t *testing.T) {
	e := newEnv(t, rtc.Config{})
	e.stream("r2", "host", "ann")
	pub := e.goLive(t, "r2", "host")
	ann := rtctest.View(t, e.url+"/api/rtc/live/r2/whep", "ann")
	waitPicture(t, ann, "ann")
	waitFrames(t, ann, 20)
	before := len(ann.Stats().Keyframes)

	pub2 := rtctest.Publish(t, e.url+"/api/rtc/live/r2/whip", "host")
	if pub2.Result.Status != http.StatusCreated {
		t.Fatalf("second connection: %d %s", pub2.Result.Status, pub2.Result.Body)
	}
	rtctest.Eventually(t, 10*time.Second, "the first connection closed by the server", func() bool {
		st := pub.PC.ConnectionState()
		return st == webrtc.PeerConnectionStateClosed || st == webrtc.PeerConnectionStateFailed ||
			st == webrtc.PeerConnectionStateDisconnected
	})
	rtctest.Eventually(t, 10*time.Second, "ann decodes the second connection's keyframe", func() bool {
		return len(ann.Stats().Keyframes) > before
	})
	time.Sleep(300 * time.Millisecond) // some delta frames after the keyframe
	checkContinuous(t, ann, "ann")
	checkPictureIDs(t, ann, "ann")
	if e.log.has("ended r2") {
		t.Fatal("the move ended the stream")
	}
	if st := e.srv.Stats(); st.Streams != 1 || st.Sessions != 2 {
		t.Fatalf("stats after the move: %+v", st)
	}
}

// A call party who reloads comes back within the window: the other party
// keeps receiving, and the application never hears that the party left.
// A party who does not come back is reported gone after the window.
func TestCallPartyReloadKeepsCall(t *testing.T) {
	e := newEnv(t, rtc.Config{RejoinGrace: 3 * time.Second})
	e.authz.mu.Lock()
	e.authz.calls["c9"] = [2]string{"ann", "bob"}
	e.authz.mu.Unlock()
	base := e.url + "/api/rtc/calls/c9/"
	annOut := rtctest.Publish(t, base+"publish", "ann")
	bobIn := rtctest.View(t, base+"subscribe", "bob")
	waitPicture(t, bobIn, "bob sees ann")
	rtctest.Eventually(t, 5*time.Second, "ann joined", func() bool { return e.log.has("joined c9 ann") })

	annOut.Close()
	rtctest.Eventually(t, 5*time.Second, "ann's connection gone", func() bool { return e.srv.Stats().Sessions == 1 })
	before := len(bobIn.Stats().Keyframes)
	annOut2 := rtctest.Publish(t, base+"publish", "ann")
	if annOut2.Result.Status != http.StatusCreated {
		t.Fatalf("ann publishes again: %d %s", annOut2.Result.Status, annOut2.Result.Body)
	}
	rtctest.Eventually(t, 10*time.Second, "bob decodes ann's new connection", func() bool {
		return len(bobIn.Stats().Keyframes) > before
	})
	checkContinuous(t, bobIn, "bob")
	time.Sleep(3500 * time.Millisecond) // past the first window
	if e.log.has("left c9 ann") {
		t.Fatal("the reload was reported as leaving the call")
	}

	annOut2.Close()
	rtctest.Eventually(t, 10*time.Second, "ann reported gone after the window", func() bool { return e.log.has("left c9 ann") })
	if bobIn.Stats().State != webrtc.PeerConnectionStateConnected {
		t.Fatal("bob was disconnected by the media server itself (the application ends the call)")
	}
}

// A call party moves to another tab or device: its new publish replaces
// the old connection at once and the other party keeps one continuous
// track, decoding the new device's picture; nobody is reported gone.
func TestCallPartyMoveKeepsMedia(t *testing.T) {
	e := newEnv(t, rtc.Config{})
	e.authz.mu.Lock()
	e.authz.calls["cm"] = [2]string{"ann", "bob"}
	e.authz.mu.Unlock()
	base := e.url + "/api/rtc/calls/cm/"
	annOut := rtctest.Publish(t, base+"publish", "ann")
	bobIn := rtctest.View(t, base+"subscribe", "bob")
	waitPicture(t, bobIn, "bob sees ann")

	for move := 1; move <= 3; move++ {
		waitFrames(t, bobIn, 10)
		before := len(bobIn.Stats().Keyframes)
		next := rtctest.Publish(t, base+"publish", "ann")
		if next.Result.Status != http.StatusCreated {
			t.Fatalf("move %d: %d %s", move, next.Result.Status, next.Result.Body)
		}
		old := annOut
		rtctest.Eventually(t, 10*time.Second, "the old device disconnected", func() bool {
			st := old.PC.ConnectionState()
			return st == webrtc.PeerConnectionStateClosed || st == webrtc.PeerConnectionStateFailed ||
				st == webrtc.PeerConnectionStateDisconnected
		})
		rtctest.Eventually(t, 10*time.Second, "bob decodes ann's new device", func() bool {
			return len(bobIn.Stats().Keyframes) > before
		})
		annOut = next
	}
	time.Sleep(300 * time.Millisecond)
	checkContinuous(t, bobIn, "bob")
	checkPictureIDs(t, bobIn, "bob")
	if err := rtctest.CheckPicture(bobIn.Stats().Keyframes[len(bobIn.Stats().Keyframes)-1]); err != nil {
		t.Fatal(err)
	}
	if e.log.has("left cm ann") {
		t.Fatal("a move was reported as leaving the call")
	}
}

// A party that comes back but whose new connection never gets going is
// still reported gone once the window has passed: the call does not hang.
func TestCallPartyFailedRejoinStillLeaves(t *testing.T) {
	e := newEnv(t, rtc.Config{RejoinGrace: time.Second, DisconnectTimeout: 300 * time.Millisecond})
	e.authz.mu.Lock()
	e.authz.calls["cf"] = [2]string{"ann", "bob"}
	e.authz.mu.Unlock()
	base := e.url + "/api/rtc/calls/cf/"
	annOut := rtctest.Publish(t, base+"publish", "ann")
	bobIn := rtctest.View(t, base+"subscribe", "bob")
	waitPicture(t, bobIn, "bob sees ann")
	annOut.Close()
	rtctest.Eventually(t, 5*time.Second, "ann's connection gone", func() bool { return e.srv.Stats().Sessions == 1 })

	// The new offer is answered but the client never connects.
	p := rtctest.NewPublisher(t)
	offer, err := p.PC.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(p.PC)
	if err := p.PC.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-gathered
	if r := rtctest.Post(t, base+"publish", "ann", "application/sdp", p.PC.LocalDescription().SDP); r.Status != http.StatusCreated {
		t.Fatalf("rejoin: %d %s", r.Status, r.Body)
	}
	p.Close()
	rtctest.Eventually(t, 15*time.Second, "ann reported gone", func() bool { return e.log.has("left cf ann") })
}
