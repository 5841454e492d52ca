package rtc_test

import (
	"testing"
	"time"

	"salonbase/rtc"
	"salonbase/rtc/rtctest"
)

// A viewer that loses packets on the way asks for them again (NACK) and
// gets them from the stream's history, which its viewers share: every
// packet that a viewer without loss received, the lossy one received as
// well, under the same sequence number, and the resends went to it alone
// (the other viewer got no packet twice). With batched UDP writes too.
func TestViewerGetsLostPacketsResent(t *testing.T) {
	for _, batch := range []int{-1, 16} {
		t.Run(map[int]string{-1: "sendto", 16: "sendmmsg"}[batch], func(t *testing.T) {
			e := newEnv(t, rtc.Config{UDPPort: freeUDPPort(t), UDPBatch: batch})
			e.stream("n1", "host", "ann", "bob")
			e.goLive(t, "n1", "host")
			const every = 5
			ann := rtctest.ViewWith(t, e.url+"/api/rtc/live/n1/whep", "ann", rtctest.Options{LoseVideo: every})
			bob := rtctest.View(t, e.url+"/api/rtc/live/n1/whep", "bob")
			waitPicture(t, ann, "ann")
			waitPicture(t, bob, "bob")
			// The clip is ~30 packets a second: a lost one every 1/6 s.
			rtctest.Eventually(t, 15*time.Second, "30 packets lost by ann and resent", func() bool {
				return e.srv.Stats().Resent >= 30
			})
			ap := ann.VideoPackets()
			got := map[uint16]bool{}
			for _, p := range ap {
				got[p.Seq] = true
			}
			annFirst := ap[0].Seq // packets before it were sent before ann was there
			seen := map[uint16]bool{}
			bp := bob.VideoPackets()
			checked := 0
			for i, p := range bp {
				if seen[p.Seq] {
					t.Fatalf("bob got packet %d twice", p.Seq)
				}
				seen[p.Seq] = true
				// The last second's may still be on their way to ann.
				if p.Seq%every == 0 && int16(p.Seq-annFirst) > 0 && i < len(bp)-30 {
					if !got[p.Seq] {
						t.Fatalf("ann never got packet %d (lost, not resent)", p.Seq)
					}
					checked++
				}
			}
			if checked < 10 {
				t.Fatalf("only %d lost packets to check", checked)
			}
			if s := ann.Stats(); s.DecodeErr != nil {
				t.Fatalf("ann: decode: %v", s.DecodeErr)
			}
		})
	}
}
