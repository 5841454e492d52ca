package rtc_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/pion/rtcp"

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

// A viewer that asks for the same packet again and again (a NACK repeated
// before the resend could arrive, or a misbehaving client) gets it resent
// a few times at most (3, at least 100 ms apart), not once per NACK; a
// viewer that really loses packets still gets every one of them.
func TestRepeatedNACKIsNotResentEachTime(t *testing.T) {
	e := newEnv(t, rtc.Config{UDPPort: freeUDPPort(t)})
	e.stream("n1", "host", "ann", "bob")
	e.goLive(t, "n1", "host")
	url := e.url + "/api/rtc/live/n1/whep"
	bob := rtctest.View(t, url, "bob")
	waitPicture(t, bob, "bob")
	ps := bob.VideoPackets()
	p := ps[len(ps)-1] // bob has it: every resend is one too many
	nack := &rtcp.TransportLayerNack{MediaSSRC: p.SSRC, Nacks: rtcp.NackPairsFromSequenceNumbers([]uint16{p.Seq})}
	before := e.srv.Stats()
	// Over ~0.5 s: longer than three resends 100 ms apart.
	const asks = 50
	for range asks {
		if err := bob.PC.WriteRTCP([]rtcp.Packet{nack}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	var st rtc.Stats
	rtctest.Eventually(t, 10*time.Second, "every NACK answered or refused", func() bool {
		st = e.srv.Stats()
		return st.Resent+st.ResendsLimited-before.Resent-before.ResendsLimited >= asks
	})
	if n := st.Resent - before.Resent; n < 1 || n > 3 {
		t.Fatalf("packet %d asked for %d times: resent %d times, want 1 to 3", p.Seq, asks, n)
	}

	// A real loss is still repaired.
	const every = 5
	ann := rtctest.ViewWith(t, url, "ann", rtctest.Options{LoseVideo: every})
	waitPicture(t, ann, "ann")
	from := e.srv.Stats().Resent
	rtctest.Eventually(t, 15*time.Second, "20 packets lost by ann and resent", func() bool {
		return e.srv.Stats().Resent-from >= 20
	})
	checkRepaired(t, ann, every)
}

// A call party whose downlink loses packets gets them resent from the
// other party's forwarder's history (its receiving connection has no NACK
// responder of its own, as a viewer's).
func TestCallPartyGetsLostPacketsResent(t *testing.T) {
	e := newEnv(t, rtc.Config{UDPPort: freeUDPPort(t)})
	e.authz.mu.Lock()
	e.authz.calls["c1"] = [2]string{"ann", "bob"}
	e.authz.mu.Unlock()
	base := e.url + "/api/rtc/calls/c1/"
	const every = 5
	annOut := rtctest.Publish(t, base+"publish", "ann")
	bobIn := rtctest.ViewWith(t, base+"subscribe", "bob", rtctest.Options{LoseVideo: every})
	for _, r := range []rtctest.Result{annOut.Result, bobIn.Result} {
		if r.Status != http.StatusCreated {
			t.Fatalf("call join: %d %s", r.Status, r.Body)
		}
	}
	waitPicture(t, bobIn, "bob sees ann")
	rtctest.Eventually(t, 15*time.Second, "20 packets lost by bob and resent", func() bool {
		return e.srv.Stats().Resent >= 20
	})
	checkRepaired(t, bobIn, every)
}

// checkRepaired: v, which loses the first copy of every video packet whose
// number is a multiple of every, got each of them (resent) from its first
// packet on, but for the last second's, which may still be on their way.
func checkRepaired(t *testing.T, v *rtctest.Viewer, every uint16) {
	t.Helper()
	ps := v.VideoPackets()
	got := map[uint16]bool{}
	for _, p := range ps {
		got[p.Seq] = true
	}
	first, last := ps[0].Seq, ps[len(ps)-1].Seq-30
	checked := 0
	for s := first + 1; int16(last-s) > 0; s++ {
		if s%every != 0 {
			continue
		}
		if !got[s] {
			t.Fatalf("packet %d never arrived (lost, not resent)", s)
		}
		checked++
	}
	if checked < 10 {
		t.Fatalf("only %d lost packets to check", checked)
	}
	if s := v.Stats(); s.DecodeErr != nil {
		t.Fatalf("decode: %v", s.DecodeErr)
	}
}
