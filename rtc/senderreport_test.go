package rtc_test

import (
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"

	"salonbase/rtc"
	"salonbase/rtc/rtctest"
)

// reportTrack is what a viewer received on one track: each packet's RTP
// timestamp and arrival, and the sender reports with their arrival.
type reportTrack struct {
	clock   float64
	packets []struct {
		ts uint32
		at time.Time
	}
	reports []struct {
		sr       rtcp.SenderReport
		received int // packets received when it came
	}
}

// The server writes each viewer's sender reports itself (the viewer's
// connection has no sender interceptor). A browser lines audio and video
// up by them, so each report's NTP/RTP pair must map the track's RTP
// timestamps onto the wall clock the packets were sent by, and count what
// was sent.
func TestViewerSenderReportsMapMediaToWallClock(t *testing.T) {
	e := newEnv(t, rtc.Config{})
	e.stream("s1", "host", "ann")
	pub := e.goLive(t, "s1", "host")
	// The stream has sent for a while when the viewer comes: its
	// reports count from its own start.
	pub.SendFor(t, 2*time.Second)

	pc := rtctest.NewPeerConnection(t)
	t.Cleanup(func() { _ = pc.Close() })
	for _, k := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
		if _, err := pc.AddTransceiverFromKind(k, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	tracks := map[webrtc.RTPCodecType]*reportTrack{}
	pc.OnTrack(func(tr *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
		rt := &reportTrack{clock: float64(tr.Codec().ClockRate)}
		mu.Lock()
		tracks[tr.Kind()] = rt
		mu.Unlock()
		go func() {
			for {
				pkts, _, err := recv.ReadRTCP()
				if err != nil {
					return
				}
				for _, p := range pkts {
					if sr, ok := p.(*rtcp.SenderReport); ok && sr.SSRC == uint32(tr.SSRC()) {
						mu.Lock()
						rt.reports = append(rt.reports, struct {
							sr       rtcp.SenderReport
							received int
						}{*sr, len(rt.packets)})
						mu.Unlock()
					}
				}
			}
		}()
		for {
			pkt, _, err := tr.ReadRTP()
			if err != nil {
				return
			}
			mu.Lock()
			rt.packets = append(rt.packets, struct {
				ts uint32
				at time.Time
			}{pkt.Timestamp, time.Now()})
			mu.Unlock()
		}
	})
	if res := rtctest.PostOffer(t, pc, e.url+"/api/rtc/live/s1/whep", "ann"); res.Status != http.StatusCreated {
		t.Fatalf("view: %d %s", res.Status, res.Body)
	}
	rtctest.Eventually(t, 20*time.Second, "3 sender reports on each track", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(tracks) == 2 && len(tracks[webrtc.RTPCodecTypeVideo].reports) >= 3 && len(tracks[webrtc.RTPCodecTypeAudio].reports) >= 3
	})

	mu.Lock()
	defer mu.Unlock()
	for kind, rt := range tracks {
		var errs []time.Duration
		for i, r := range rt.reports {
			sr := r.sr
			if sr.PacketCount == 0 || sr.OctetCount == 0 {
				t.Fatalf("%s report %d counts nothing: %+v", kind, i, sr)
			}
			// It counts what was sent to this viewer before it: about what
			// had arrived before it did (RTP and RTCP are read by two
			// goroutines here, so a few packets either way), not what the
			// stream sent before the viewer came (60 video and 100 audio
			// packets or more of the test's clip).
			if int(sr.PacketCount) < r.received-15 || int(sr.PacketCount) > r.received+15 {
				t.Fatalf("%s report %d: %d packets sent, %d received before it", kind, i, sr.PacketCount, r.received)
			}
			// Each packet's send time as the report maps it, against its
			// arrival: the smallest gap over the packets before the report
			// is the mapping's error plus one delivery on loopback.
			sent := ntpToTime(sr.NTPTime)
			best := time.Duration(1 << 62)
			for _, p := range rt.packets[max(0, r.received-100):r.received] {
				at := sent.Add(time.Duration(float64(int32(p.ts-sr.RTPTime)) / rt.clock * float64(time.Second)))
				best = min(best, p.at.Sub(at).Abs())
			}
			errs = append(errs, best)
		}
		slices.Sort(errs)
		// The median over the reports: one report's packets may all have
		// waited on a loaded machine, a wrong mapping is off in all of them
		// (the publisher's own timestamps, another clock rate).
		if med := errs[len(errs)/2]; med > 30*time.Millisecond {
			t.Fatalf("%s: the reports map RTP time to wall clock %v off (per report: %v)", kind, med, errs)
		}
	}
}

// ntpToTime is the wall-clock time of a 64-bit NTP timestamp.
func ntpToTime(ntp uint64) time.Time {
	secs := int64(ntp>>32) - 2208988800
	frac := int64((ntp & 0xffffffff) * 1e9 >> 32)
	return time.Unix(secs, frac)
}
