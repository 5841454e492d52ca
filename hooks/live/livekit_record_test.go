package live_test

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"

	"salonbase/rtc"
	"salonbase/rtc/rtctest"
	"salonbase/testutil"
)

// publishVideo sends the test clip (VP8, 64×64, a keyframe every second)
// at 30 frames a second on a new track until the test ends.
func publishVideo(t *testing.T, j *joined) {
	t.Helper()
	track, err := lksdk.NewLocalSampleTrack(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := j.room.LocalParticipant.PublishTrack(track, &lksdk.TrackPublicationOptions{Name: "camera", VideoWidth: 64, VideoHeight: 64}); err != nil {
		t.Fatalf("publish video: %v", err)
	}
	frames := rtctest.VideoFrames(t)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go func() {
		tick := time.NewTicker(time.Second / 30)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				track.WriteSample(media.Sample{Data: frames[i%len(frames)], Duration: time.Second / 30}, nil)
			}
		}
	}()
}

// A stream recorded on LiveKit: the server joins its room as a hidden
// recorder that no member sees or counts, and when the stream ends the
// recording is attached as on the embedded server: a WebM of the host's
// picture and sound, as long as the live, replayed by those who may watch.
func TestLiveKitRecording(t *testing.T) {
	app := testutil.NewApp(t)
	host := testutil.CreateUser(t, app, testutil.User{Name: "Hana", Role: "tutor"})
	ann := testutil.CreateUser(t, app, testutil.User{Rank: "Gold"})
	low := testutil.CreateUser(t, app, testutil.User{Rank: "Bronze"})
	srv := serveRTC(t, app)
	lk := useLiveKit(t, app, srv)
	hostTok, annTok := testutil.Token(t, host), testutil.Token(t, ann)

	status, body := srv.Do(t, http.MethodPost, "/api/collections/live_streams/records", hostTok, map[string]any{
		"title": "Recorded on LiveKit", "min_rank": testutil.RankID(t, app, "Gold"), "record": true,
	})
	if status != http.StatusOK {
		t.Fatalf("create stream: %d %s", status, body)
	}
	id := testutil.Decode[map[string]any](t, body)["id"].(string)
	room := "live-" + id
	path := "/api/salon/live/" + id + "/livekit"

	hostLK := mintToken(t, srv, path, hostTok, http.StatusOK)
	hostRoom, err := join(t, hostLK.URL, hostLK.Token)
	if err != nil {
		t.Fatalf("host joins: %v", err)
	}
	publishAudio(t, hostRoom)
	publishVideo(t, hostRoom)
	waitStatus(t, app, "live_streams", id, "live")
	// The recorder is in LiveKit's room...
	rtctest.Eventually(t, 15*time.Second, "the recorder joins the room", func() bool {
		return inRoom(t, lk, room, "salon-recorder")
	})
	recording := time.Now()

	annLK := mintToken(t, srv, path, annTok, http.StatusOK)
	annRoom, err := join(t, annLK.URL, annLK.Token)
	if err != nil {
		t.Fatalf("viewer joins: %v", err)
	}
	rtctest.Eventually(t, 15*time.Second, "the viewer receives the host's media", func() bool {
		return annRoom.packets.Load() > 30
	})
	// LiveKit forwards the host's media by now, to the recorder (which
	// subscribed first) too.
	flowing := time.Now()
	// ...but hidden: the members see the host only, and count one viewer.
	rtctest.Eventually(t, 10*time.Second, "viewer_count 1", func() bool {
		return record(t, app, "live_streams", id).GetInt("viewer_count") == 1
	})
	for _, p := range annRoom.room.GetRemoteParticipants() {
		if p.Identity() != host.Id {
			t.Fatalf("the viewer sees %q in the room", p.Identity())
		}
	}
	for _, p := range hostRoom.room.GetRemoteParticipants() {
		if p.Identity() != ann.Id {
			t.Fatalf("the host sees %q in the room", p.Identity())
		}
	}
	time.Sleep(4 * time.Second) // seconds of media
	if got := record(t, app, "live_streams", id).GetInt("viewer_count"); got != 1 {
		t.Fatalf("viewer_count %d with one viewer and the recorder", got)
	}

	// The host ends the stream: the recording is attached.
	if st, b := srv.Do(t, http.MethodPatch, "/api/collections/live_streams/records/"+id, hostTok, map[string]any{"status": "ended"}); st != http.StatusOK {
		t.Fatalf("end: %d %s", st, b)
	}
	inRoomFor, mediaFor := time.Since(recording), time.Since(flowing)
	var file string
	rtctest.Eventually(t, 30*time.Second, "recording attached", func() bool {
		file = record(t, app, "live_streams", id).GetString("recording")
		return file != ""
	})
	rtctest.Eventually(t, 10*time.Second, "the recorder leaves", func() bool {
		return !inRoom(t, lk, room, "salon-recorder")
	})
	rtctest.Eventually(t, 5*time.Second, "temporary file removed", func() bool {
		left, _ := os.ReadDir(filepath.Join(app.DataDir(), "recordings_tmp"))
		return len(left) == 0
	})

	url := "/api/files/live_streams/" + id + "/" + file
	status, webm := getFile(t, srv, url, fileToken(t, srv, annTok))
	if status != http.StatusOK {
		t.Fatalf("ann replays: %d %s", status, webm)
	}
	info, err := rtc.InspectRecording(bytes.NewReader(webm))
	if err != nil {
		t.Fatal(err)
	}
	v, a := info.Track("V_VP8"), info.Track("A_OPUS")
	if v == nil || a == nil || v.Keyframes == 0 || v.Width != 64 || v.Height != 64 || v.Blocks < 30 || a.Blocks < 50 || !v.Ordered || !a.Ordered {
		t.Fatalf("recording: %+v", info.Tracks)
	}
	// As long as the media flowed while the recorder was in the room: at
	// least from when the viewer had it (less up to a second until the next
	// keyframe, where a recording starts, and the end's way to the
	// recorder), at most from when the recorder joined.
	t.Logf("recording of %s: media flowed for %s, the recorder was in the room for %s", info.Duration, mediaFor, inRoomFor)
	if info.Duration < mediaFor-2*time.Second || info.Duration > inRoomFor+time.Second {
		t.Fatalf("duration %s: media flowed for %s, the recorder was in the room for %s", info.Duration, mediaFor, inRoomFor)
	}
	// Below the stream's rank: no replay.
	if status, _ := getFile(t, srv, url, fileToken(t, srv, testutil.Token(t, low))); status != http.StatusNotFound {
		t.Fatalf("bronze member fetches the recording: %d", status)
	}
}
