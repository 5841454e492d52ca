package rtc_test

import (
	"fmt"
	"net/http"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"salonbase/rtc"
	"salonbase/rtc/rtctest"
)

// A publisher sends three simulcast layers (q/h/f at about 30, 130 and
// 400 kbit/s). Two viewers start on the high layer; when one viewer's
// downlink drops to 200 kbit/s, the server's estimate of that
// viewer's link (Google congestion control over its transport-wide
// feedback) falls and the viewer is moved to a layer that fits, at a
// keyframe, on the same continuous track, while the other keeps the high
// layer. When the link recovers, the viewer climbs back.
func TestSimulcastLayerPerViewer(t *testing.T) {
	e := newEnv(t, rtc.Config{})
	e.stream("sc", "host", "ann", "bob")
	pub := rtctest.PublishSimulcast(t, e.url+"/api/rtc/live/sc/whip", "host")
	if pub.Result.Status != http.StatusCreated {
		t.Fatalf("publish: %d %s", pub.Result.Status, pub.Result.Body)
	}
	rtctest.Eventually(t, 10*time.Second, "stream live", func() bool { return e.log.has("live sc by host") })

	var limit atomic.Int64
	ann := rtctest.View(t, e.url+"/api/rtc/live/sc/whep", "ann")
	bob := rtctest.ViewWith(t, e.url+"/api/rtc/live/sc/whep", "bob", rtctest.Options{DownlinkLimit: &limit})
	waitPicture(t, ann, "ann")
	waitPicture(t, bob, "bob")
	rtctest.Eventually(t, 30*time.Second, "both viewers on the high layer", func() bool {
		return slices.Equal(e.srv.Layers("sc"), []string{"f", "f"})
	})
	rtctest.Eventually(t, 30*time.Second, "bob receives the high layer's 400 kbit/s", func() bool {
		return slices.Equal(e.srv.Layers("sc"), []string{"f", "f"}) && bob.VideoBitrate(time.Second) > 300_000
	})

	// Bob's link slows down.
	limit.Store(200_000)
	slowed := time.Now()
	// (On a machine so busy that ann's packets queue too, ann may be
	// moved down as well for a few seconds; she must be back on f.)
	seen := map[string]bool{}
	rtctest.Eventually(t, 30*time.Second, "bob on a lower layer, ann on the high one", func() bool {
		ls := e.srv.Layers("sc")
		if k := fmt.Sprint(ls); !seen[k] {
			seen[k] = true
			t.Logf("%.1f s: layers %v; ann %.0f, bob %.0f bit/s", time.Since(slowed).Seconds(), ls, ann.VideoBitrate(time.Second), bob.VideoBitrate(time.Second))
		}
		return slices.Equal(ls, []string{"f", "h"}) || slices.Equal(ls, []string{"f", "q"})
	})
	t.Logf("bob moved down %.1f s after his link slowed: layers %v", time.Since(slowed).Seconds(), e.srv.Layers("sc"))
	before := len(bob.Stats().Keyframes)
	rtctest.Eventually(t, 5*time.Second, "bob decodes the lower layer's keyframe", func() bool {
		return len(bob.Stats().Keyframes) > before
	})
	time.Sleep(2 * time.Second)
	if r := bob.VideoBitrate(2 * time.Second); r > 200_000 {
		t.Fatalf("bob still receives %.0f bit/s over a 200 kbit/s link", r)
	}
	rtctest.Eventually(t, 30*time.Second, "ann receives the high layer's 400 kbit/s", func() bool {
		return ann.VideoBitrate(time.Second) > 300_000
	})
	s := bob.Stats()
	if s.DecodeErr != nil {
		t.Fatalf("bob: decode: %v", s.DecodeErr)
	}
	if err := rtctest.CheckPicture(s.Keyframes[len(s.Keyframes)-1]); err != nil {
		t.Fatalf("bob after the switch: %v", err)
	}
	checkContinuous(t, ann, "ann")
	checkOneStream(t, bob, "bob")

	// The link recovers: bob climbs back to the high layer (after the
	// back-off that keeps a struggling link from being retried at once).
	limit.Store(0)
	recovered := time.Now()
	rtctest.Eventually(t, 60*time.Second, "bob back on the high layer", func() bool {
		return slices.Equal(e.srv.Layers("sc"), []string{"f", "f"})
	})
	t.Logf("bob back on the high layer %.1f s after his link recovered", time.Since(recovered).Seconds())
	checkOneStream(t, bob, "bob")
}

// checkOneStream: a viewer whose link drops packets still sees one stream
// (one SSRC, sequence numbers and timestamps only moving forward by what
// was lost), across layer switches.
func checkOneStream(t *testing.T, v *rtctest.Viewer, who string) {
	t.Helper()
	pkts := v.VideoPackets()
	for i := 1; i < len(pkts); i++ {
		a, b := pkts[i-1], pkts[i]
		if a.SSRC != b.SSRC {
			t.Fatalf("%s: SSRC changed at packet %d", who, i)
		}
		if d := int16(b.Seq - a.Seq); d < -8 || d == 0 {
			t.Fatalf("%s: sequence number goes back %d → %d at packet %d", who, a.Seq, b.Seq, i)
		}
		if d := int32(b.TS - a.TS); d < -90000 || d > 30*90000 {
			t.Fatalf("%s: timestamp jumps %d → %d at packet %d", who, a.TS, b.TS, i)
		}
	}
}

// A publisher without simulcast (OBS, a Pion client) is forwarded as
// before: viewers share its one track and no estimator runs.
func TestNonSimulcastPublisherHasNoLayers(t *testing.T) {
	e := newEnv(t, rtc.Config{})
	e.stream("ns", "host", "ann")
	e.goLive(t, "ns", "host")
	ann := rtctest.View(t, e.url+"/api/rtc/live/ns/whep", "ann")
	waitPicture(t, ann, "ann")
	if ls := e.srv.Layers("ns"); len(ls) != 0 {
		t.Fatalf("layers %v for a single-layer stream", ls)
	}
}

// A simulcast host who reloads keeps the stream: the new connection's
// layers feed the viewers' tracks, which continue as one stream; a host
// who then comes back with a single layer (from OBS) is forwarded too.
func TestSimulcastPublisherRejoins(t *testing.T) {
	e := newEnv(t, rtc.Config{RejoinGrace: 5 * time.Second})
	e.stream("sr", "host", "ann")
	pub := rtctest.PublishSimulcast(t, e.url+"/api/rtc/live/sr/whip", "host")
	if pub.Result.Status != http.StatusCreated {
		t.Fatalf("publish: %d %s", pub.Result.Status, pub.Result.Body)
	}
	rtctest.Eventually(t, 10*time.Second, "stream live", func() bool { return e.log.has("live sr by host") })
	ann := rtctest.View(t, e.url+"/api/rtc/live/sr/whep", "ann")
	waitPicture(t, ann, "ann")

	for i, again := range []func() *rtctest.Publisher{
		func() *rtctest.Publisher { return rtctest.PublishSimulcast(t, e.url+"/api/rtc/live/sr/whip", "host") },
		func() *rtctest.Publisher { return rtctest.Publish(t, e.url+"/api/rtc/live/sr/whip", "host") },
	} {
		pub.Close()
		rtctest.Eventually(t, 5*time.Second, "the publisher's session gone", func() bool { return e.srv.Stats().Sessions == 1 })
		before := len(ann.Stats().Keyframes)
		pub = again()
		if pub.Result.Status != http.StatusCreated {
			t.Fatalf("rejoin %d: %d %s", i, pub.Result.Status, pub.Result.Body)
		}
		rtctest.Eventually(t, 10*time.Second, "ann decodes the new connection's keyframe", func() bool {
			return len(ann.Stats().Keyframes) > before
		})
		s := ann.Stats()
		if err := rtctest.CheckPicture(s.Keyframes[len(s.Keyframes)-1]); err != nil {
			t.Fatalf("rejoin %d: %v", i, err)
		}
		if s.DecodeErr != nil {
			t.Fatalf("rejoin %d: %v", i, s.DecodeErr)
		}
		checkContinuous(t, ann, "ann")
	}
	if e.log.has("ended sr") {
		t.Fatal("a rejoin ended the stream")
	}
}

// Two viewers join a simulcast stream a second apart: each one's joining
// asks the publisher for a keyframe at once (the second is not held back
// by the first's request, which its keyframe already answered), and each
// starts on a keyframe, decodable from its first packet. The publisher
// sends its clip's own keyframe once a second, so only a keyframe request
// made at the join shows as a PLI before the viewer's first keyframe.
func TestSimulcastViewersAskForAKeyframeAtOnce(t *testing.T) {
	e := newEnv(t, rtc.Config{})
	e.stream("kf", "host", "ann", "bob")
	pub := rtctest.PublishSimulcast(t, e.url+"/api/rtc/live/kf/whip", "host")
	if pub.Result.Status != http.StatusCreated {
		t.Fatalf("publish: %d %s", pub.Result.Status, pub.Result.Body)
	}
	rtctest.Eventually(t, 10*time.Second, "stream live", func() bool { return e.log.has("live kf by host") })
	// the requests made as the publisher's layers arrived are answered
	rtctest.Eventually(t, 10*time.Second, "the layers' first keyframe requests", func() bool { return pub.PLIs() >= 1 })
	time.Sleep(time.Second)

	for i, who := range []string{"ann", "bob"} {
		if i > 0 {
			time.Sleep(time.Second)
		}
		before := pub.PLIs()
		v := rtctest.View(t, e.url+"/api/rtc/live/kf/whep", who)
		rtctest.Eventually(t, 10*time.Second, who+" decodes a keyframe", func() bool { return len(v.Stats().Keyframes) > 0 })
		after := pub.PLIs()
		t.Logf("%s: %d keyframe requests between its offer and its first keyframe", who, after-before)
		if after == before {
			t.Fatalf("%s got its first keyframe without a keyframe request for it", who)
		}
		// coalesced: one request per layer at most, and a repeat or two
		// if the keyframe is slow (500 ms apart)
		if after-before > 6 {
			t.Fatalf("%s: %d keyframe requests for one join", who, after-before)
		}
		s := v.Stats()
		if s.DecodeErr != nil {
			t.Fatalf("%s: decode: %v", who, s.DecodeErr)
		}
		if err := rtctest.CheckPicture(s.Keyframes[0]); err != nil {
			t.Fatalf("%s: %v", who, err)
		}
		checkOneStream(t, v, who)
	}
	if ls := e.srv.Layers("kf"); len(ls) != 2 || ls[0] == "" || ls[1] == "" {
		t.Fatalf("layers %v: both viewers should be on a layer", ls)
	}
}

// A viewer on a steady link keeps its layer and its frame rate: a second
// viewer joining (whose start asks the publisher for a keyframe, which
// comes on every layer, a burst on the first viewer's link too) does not
// move it; it is not switched back and forth; and every frame its layer
// brings in reaches it, also while the second viewer starts.
func TestSimulcastSteadyViewerKeepsItsLayer(t *testing.T) {
	e := newEnv(t, rtc.Config{})
	e.stream("st", "host", "ann", "bob")
	pub := rtctest.PublishSimulcast(t, e.url+"/api/rtc/live/st/whip", "host")
	if pub.Result.Status != http.StatusCreated {
		t.Fatalf("publish: %d %s", pub.Result.Status, pub.Result.Body)
	}
	rtctest.Eventually(t, 10*time.Second, "stream live", func() bool { return e.log.has("live st by host") })
	ann := rtctest.View(t, e.url+"/api/rtc/live/st/whep", "ann")
	waitPicture(t, ann, "ann")
	rtctest.Eventually(t, 30*time.Second, "ann on the top layer", func() bool {
		vs, _ := e.srv.LayerStats("st")
		return len(vs) == 1 && vs[0].Layer == "f" && vs[0].Target == "f"
	})
	vs, in := e.srv.LayerStats("st")
	before, inBefore, plis := vs[0], in["f"], pub.PLIs()
	t.Logf("ann before: %+v; f in: %+v", before, inBefore)

	bob := rtctest.View(t, e.url+"/api/rtc/live/st/whep", "bob")
	waitPicture(t, bob, "bob")
	time.Sleep(5 * time.Second)
	vs, in = e.srv.LayerStats("st")
	if len(vs) != 2 {
		t.Fatalf("%d viewers", len(vs))
	}
	after, inAfter := vs[0], in["f"]
	t.Logf("ann after: %+v; f in: %+v; keyframe requests meanwhile: %d", after, inAfter, pub.PLIs()-plis)
	if n := after.Switches - before.Switches; n != 0 {
		t.Errorf("ann switched layers %d times on a steady link", n)
	}
	if n := after.Targets - before.Targets; n != 0 {
		t.Errorf("ann's target changed %d times on a steady link", n)
	}
	// bob's start asks for a keyframe (and a repeat if it is slow);
	// nothing else does
	if n := pub.PLIs() - plis; n > 3 {
		t.Errorf("%d keyframe requests for one viewer's start", n)
	}
	got := after.Frames["f"] - before.Frames["f"]
	sent := int(inAfter.Frames - inBefore.Frames)
	if got < sent-1 {
		t.Errorf("ann got %d of the %d frames her layer brought in", got, sent)
	}
	checkOneStream(t, ann, "ann")
}
