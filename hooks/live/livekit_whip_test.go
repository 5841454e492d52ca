package live_test

import (
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/webrtc/v4"

	"salonbase/hooks/live"
	"salonbase/rtc/rtctest"
	"salonbase/testutil"
)

// lkSubscriber counts what a LiveKit room member receives, by kind, and
// the VP8 keyframes among the video.
type lkSubscriber struct {
	room             *lksdk.Room
	audio, video, kf atomic.Int64
	videoBytes       atomic.Int64
	from             atomic.Value // the identity whose tracks arrive
}

func subscribe(t *testing.T, url, token string) *lkSubscriber {
	t.Helper()
	s := &lkSubscriber{}
	cb := lksdk.NewRoomCallback()
	cb.OnTrackSubscribed = func(track *webrtc.TrackRemote, _ *lksdk.RemoteTrackPublication, rp *lksdk.RemoteParticipant) {
		s.from.Store(rp.Identity())
		go func() {
			for {
				p, _, err := track.ReadRTP()
				if err != nil {
					return
				}
				if track.Kind() == webrtc.RTPCodecTypeAudio {
					s.audio.Add(1)
					continue
				}
				s.video.Add(1)
				s.videoBytes.Add(int64(len(p.Payload)))
				// a VP8 payload descriptor, then the frame header: a start
				// of partition 0 whose P bit is 0 is a keyframe
				if b := p.Payload; len(b) > 0 && b[0]&0x10 != 0 {
					off := 1
					if b[0]&0x80 != 0 && len(b) > 1 {
						off++
						if b[1]&0x80 != 0 {
							off++
							if len(b) > 2 && b[2]&0x80 != 0 {
								off++
							}
						}
						if b[1]&0x40 != 0 {
							off++
						}
						if b[1]&0x30 != 0 {
							off++
						}
					}
					if len(b) > off && b[off]&0x01 == 0 {
						s.kf.Add(1)
					}
				}
			}
		}()
	}
	room, err := lksdk.ConnectToRoomWithToken(url, token, cb)
	if err != nil {
		t.Fatalf("join LiveKit: %v", err)
	}
	t.Cleanup(room.Disconnect)
	s.room = room
	return s
}

// OBS on LiveKit: the WHIP URL and stream key of the embedded server. The
// server answers the publisher itself and republishes its tracks into the
// stream's LiveKit room as the host; LiveKit's viewers receive them and
// their keyframe requests reach the publisher. Refused callers get the
// embedded server's answers and put nothing in the room.
func TestLiveKitWHIP(t *testing.T) {
	app := testutil.NewApp(t)
	host := testutil.CreateUser(t, app, testutil.User{Name: "Hana", Role: "tutor"})
	ann := testutil.CreateUser(t, app, testutil.User{Rank: "Gold"})
	bob := testutil.CreateUser(t, app, testutil.User{Rank: "Gold"})
	srv := serveRTC(t, app)
	lk := useLiveKit(t, app, srv)
	hostTok, annTok := testutil.Token(t, host), testutil.Token(t, ann)

	status, body := srv.Do(t, http.MethodPost, "/api/collections/live_streams/records", hostTok,
		map[string]any{"title": "From OBS", "min_rank": testutil.RankID(t, app, "Gold")})
	if status != http.StatusOK {
		t.Fatalf("create stream: %d %s", status, body)
	}
	id := testutil.Decode[map[string]any](t, body)["id"].(string)
	_, body = srv.Do(t, http.MethodGet, "/api/salon/live/"+id+"/key", hostTok, nil)
	key := testutil.Decode[map[string]any](t, body)
	whipURL := srv.URL + key["whip_url"].(string)
	streamKey := key["stream_key"].(string)
	room := "live-" + id

	// Refused as on the embedded server, and nobody enters the room: no
	// key (401), a wrong key (401), a member who is not the host (403), a
	// body that is no SDP offer (415).
	for _, c := range []struct {
		who, token string
		want       int
	}{{"nobody", "", 401}, {"a wrong key", "sk_not-the-key", 401}, {"a member", annTok, 403}} {
		p := rtctest.Publish(t, whipURL, c.token)
		p.Close()
		if p.Result.Status != c.want {
			t.Fatalf("WHIP by %s: %d %s (want %d)", c.who, p.Result.Status, p.Result.Body, c.want)
		}
	}
	if r := rtctest.Post(t, whipURL, streamKey, "text/plain", "v=0"); r.Status != http.StatusUnsupportedMediaType {
		t.Fatalf("WHIP with a text body: %d %s", r.Status, r.Body)
	}
	// A suspended host may not go live, even with the key.
	host.Set("suspended", true)
	if err := app.Save(host); err != nil {
		t.Fatal(err)
	}
	p := rtctest.Publish(t, whipURL, streamKey)
	p.Close()
	if p.Result.Status != http.StatusForbidden {
		t.Fatalf("WHIP by a suspended host: %d %s", p.Result.Status, p.Result.Body)
	}
	host.Set("suspended", false)
	if err := app.Save(host); err != nil {
		t.Fatal(err)
	}
	hostTok = testutil.Token(t, host) // (saving the user renewed its token key)
	if inRoom(t, lk, room, host.Id) || record(t, app, "live_streams", id).GetString("status") != "scheduled" {
		t.Fatal("a refused publisher reached the room or moved the stream")
	}

	// OBS publishes with the stream key: the stream goes live by LiveKit's
	// webhook, with the host in the room.
	pub := rtctest.Publish(t, whipURL, streamKey)
	if pub.Result.Status != http.StatusCreated || pub.Result.Location == "" || pub.Result.Header.Get("Content-Type") != "application/sdp" {
		t.Fatalf("WHIP with the key: %d %q %s", pub.Result.Status, pub.Result.Location, pub.Result.Body)
	}
	waitStatus(t, app, "live_streams", id, "live")
	if !inRoom(t, lk, room, host.Id) {
		t.Fatal("the host is not in LiveKit's room")
	}

	// A viewer in LiveKit's room receives the publisher's video from a
	// keyframe on, and its sound.
	annLK := mintToken(t, srv, "/api/salon/live/"+id+"/livekit", annTok, http.StatusOK)
	viewer := subscribe(t, annLK.URL, annLK.Token)
	rtctest.Eventually(t, 20*time.Second, "the viewer receives video from a keyframe, and audio", func() bool {
		return viewer.video.Load() > 50 && viewer.kf.Load() > 0 && viewer.audio.Load() > 20
	})
	if got := viewer.from.Load(); got != host.Id {
		t.Fatalf("the tracks come from %v, not the host", got)
	}
	// A second viewer: LiveKit asks for a keyframe for her, the request
	// reaches the publisher (the clip restarts at its keyframe on each)
	// and she starts from a keyframe too.
	plis := pub.PLIs()
	bobLK := mintToken(t, srv, "/api/salon/live/"+id+"/livekit", testutil.Token(t, bob), http.StatusOK)
	second := subscribe(t, bobLK.URL, bobLK.Token)
	rtctest.Eventually(t, 20*time.Second, "LiveKit's keyframe request reaches the publisher, the second viewer decodes from a keyframe", func() bool {
		return pub.PLIs() > plis && second.kf.Load() > 0 && second.video.Load() > 50
	})
	second.room.Disconnect()

	// OBS's connection drops and it publishes again with the key: the
	// stream stays live (the host's 15 s) and the viewer receives again.
	pub.Close()
	rtctest.Eventually(t, 10*time.Second, "the host leaves the room", func() bool { return !inRoom(t, lk, room, host.Id) })
	again := rtctest.Publish(t, whipURL, streamKey)
	if again.Result.Status != http.StatusCreated {
		t.Fatalf("WHIP again: %d %s", again.Result.Status, again.Result.Body)
	}
	seen := viewer.video.Load()
	rtctest.Eventually(t, 20*time.Second, "the viewer receives the publisher again", func() bool {
		return viewer.video.Load() > seen+50
	})
	if st := record(t, app, "live_streams", id).GetString("status"); st != "live" {
		t.Fatalf("status after OBS came back: %s", st)
	}
	// Only the Location's holder ends the session (a made-up one is the
	// embedded server's 404).
	if r := rtctest.Do(t, http.MethodDelete, whipURL+"/00112233445566778899aabbccddeeff", streamKey, "", ""); r.Status != http.StatusNotFound {
		t.Fatalf("DELETE of an unknown session: %d %s", r.Status, r.Body)
	}
	// OBS stops (DELETE of its session): the stream ends at once, as on
	// the embedded server, and WHIP answers 409 from then on.
	if r := rtctest.Do(t, http.MethodDelete, srv.URL+again.Result.Location, streamKey, "", ""); r.Status != http.StatusOK {
		t.Fatalf("DELETE the WHIP session: %d %s", r.Status, r.Body)
	}
	waitStatus(t, app, "live_streams", id, "ended")
	rtctest.Eventually(t, 10*time.Second, "the host leaves the room", func() bool { return !inRoom(t, lk, room, host.Id) })
	if r := rtctest.Do(t, http.MethodDelete, srv.URL+again.Result.Location, streamKey, "", ""); r.Status != http.StatusNotFound {
		t.Fatalf("DELETE a session gone: %d %s", r.Status, r.Body)
	}
	p = rtctest.Publish(t, whipURL, streamKey)
	p.Close()
	if p.Result.Status != http.StatusConflict {
		t.Fatalf("WHIP to an ended stream: %d %s", p.Result.Status, p.Result.Body)
	}

	// On a second stream, a publisher in simulcast (three layers, q/h/f,
	// as a browser sends them): its top layer is relayed. Then the host's
	// tutor role is taken away while it publishes: LiveKit's room loses the
	// host and the publisher its connection, as on the embedded server, and
	// WHIP answers 403.
	status, body = srv.Do(t, http.MethodPost, "/api/collections/live_streams/records", hostTok, map[string]any{"title": "Second"})
	if status != http.StatusOK {
		t.Fatalf("create stream: %d %s", status, body)
	}
	id2 := testutil.Decode[map[string]any](t, body)["id"].(string)
	_, body = srv.Do(t, http.MethodGet, "/api/salon/live/"+id2+"/key", hostTok, nil)
	key2 := testutil.Decode[map[string]any](t, body)["stream_key"].(string)
	third := rtctest.PublishSimulcast(t, srv.URL+"/api/rtc/live/"+id2+"/whip", key2)
	if third.Result.Status != http.StatusCreated {
		t.Fatalf("WHIP to the second stream: %d %s", third.Result.Status, third.Result.Body)
	}
	waitStatus(t, app, "live_streams", id2, "live")
	annLK2 := mintToken(t, srv, "/api/salon/live/"+id2+"/livekit", annTok, http.StatusOK)
	viewer2 := subscribe(t, annLK2.URL, annLK2.Token)
	rtctest.Eventually(t, 20*time.Second, "the viewer receives the simulcast publisher's video", func() bool {
		return viewer2.video.Load() > 100 && viewer2.kf.Load() > 0
	})
	// the top layer pads every frame with 1,500 bytes, the bottom one with
	// none: its packets are the large ones
	if avg := viewer2.videoBytes.Load() / viewer2.video.Load(); avg < 500 {
		t.Fatalf("the relayed layer's packets carry %d bytes on average: not the top layer", avg)
	}
	host.Set("role", "member")
	if err := app.Save(host); err != nil {
		t.Fatal(err)
	}
	rtctest.Eventually(t, 15*time.Second, "the host's relay is removed and OBS cut off", func() bool {
		st := third.PC.ConnectionState()
		return !inRoom(t, lk, "live-"+id2, host.Id) && (st == webrtc.PeerConnectionStateClosed || st == webrtc.PeerConnectionStateFailed || st == webrtc.PeerConnectionStateDisconnected)
	})
	p = rtctest.Publish(t, srv.URL+"/api/rtc/live/"+id2+"/whip", key2)
	p.Close()
	if p.Result.Status != http.StatusForbidden {
		t.Fatalf("WHIP by a host who may no longer broadcast: %d %s", p.Result.Status, p.Result.Body)
	}
}

// Every relayed offer joins LiveKit's room, so the embedded server's limit
// on a member's offers applies to the relay too: past it, 429 with
// Retry-After, and the live publisher is not replaced.
func TestLiveKitWHIPOffersAreLimited(t *testing.T) {
	app := testutil.NewApp(t)
	host := testutil.CreateUser(t, app, testutil.User{Name: "Hana", Role: "tutor"})
	live.Configure(app, live.Config{Loopback: true, MaxOffersPerMember: 2})
	srv := testutil.Serve(t, app)
	lk := useLiveKit(t, app, srv)
	hostTok := testutil.Token(t, host)
	_, body := srv.Do(t, http.MethodPost, "/api/collections/live_streams/records", hostTok, map[string]any{"title": "From OBS"})
	id := testutil.Decode[map[string]any](t, body)["id"].(string)
	_, body = srv.Do(t, http.MethodGet, "/api/salon/live/"+id+"/key", hostTok, nil)
	key := testutil.Decode[map[string]any](t, body)
	whipURL, streamKey := srv.URL+key["whip_url"].(string), key["stream_key"].(string)

	for i := range 2 {
		p := rtctest.Publish(t, whipURL, streamKey)
		defer p.Close()
		if p.Result.Status != http.StatusCreated {
			t.Fatalf("offer %d: %d %s", i+1, p.Result.Status, p.Result.Body)
		}
	}
	p := rtctest.Publish(t, whipURL, streamKey)
	p.Close()
	if p.Result.Status != http.StatusTooManyRequests || p.Result.Header.Get("Retry-After") == "" {
		t.Fatalf("a third offer within the minute: %d %s (Retry-After %q)", p.Result.Status, p.Result.Body, p.Result.Header.Get("Retry-After"))
	}
	rtctest.Eventually(t, 5*time.Second, "the publisher of the second offer in the room", func() bool {
		return inRoom(t, lk, "live-"+id, host.Id)
	})
}
