package live_test

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/filesystem"

	"salonbase/hooks/salon"
	"salonbase/rtc"
	"salonbase/rtc/rtctest"
	"salonbase/testutil"
)

// fileToken is a PocketBase file token for the holder of token.
func fileToken(t *testing.T, srv *testutil.Server, token string) string {
	t.Helper()
	status, body := srv.Do(t, http.MethodPost, "/api/files/token", token, nil)
	if status != http.StatusOK {
		t.Fatalf("file token: %d %s", status, body)
	}
	return testutil.Decode[map[string]string](t, body)["token"]
}

// getFile fetches a protected file with a file token ("" for none).
func getFile(t *testing.T, srv *testutil.Server, path, fileTok string) (int, []byte) {
	t.Helper()
	url := srv.URL + path
	if fileTok != "" {
		url += "?token=" + fileTok
	}
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// A host records a live; afterwards members who could watch it replay the
// file, nobody else can fetch it, and only the host or an admin deletes it.
func TestRecordedLiveReplaysByRankAndHostDeletes(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	testutil.UpdateSettings(t, app, map[string]any{"live_min_rank": testutil.RankID(t, app, "Silver")})
	host := testutil.CreateUser(t, app, testutil.User{Name: "Hana", Rank: "Gold"})
	ann := testutil.CreateUser(t, app, testutil.User{Rank: "Gold"})
	low := testutil.CreateUser(t, app, testutil.User{Rank: "Bronze"})
	srv := serveRTC(t, app)
	hostTok, annTok, lowTok := testutil.Token(t, host), testutil.Token(t, ann), testutil.Token(t, low)

	status, body := srv.Do(t, http.MethodPost, "/api/collections/live_streams/records", hostTok, map[string]any{
		"title": "Recorded Q&A", "min_rank": testutil.RankID(t, app, "Gold"), "record": true,
	})
	if status != http.StatusOK {
		t.Fatalf("create stream: %d %s", status, body)
	}
	id := testutil.Decode[map[string]any](t, body)["id"].(string)

	pub := rtctest.Publish(t, srv.URL+"/api/rtc/live/"+id+"/whip", hostTok)
	if pub.Result.Status != http.StatusCreated {
		t.Fatalf("publish: %d %s", pub.Result.Status, pub.Result.Body)
	}
	waitStatus(t, app, "live_streams", id, "live")
	// Once live, whether it is recorded is settled.
	if status, body := srv.Do(t, http.MethodPatch, "/api/collections/live_streams/records/"+id, hostTok, map[string]any{"record": false}); status != http.StatusBadRequest {
		t.Fatalf("turn recording off while live: %d %s", status, body)
	}
	pub.SendFor(t, 3*time.Second) // three seconds of media
	if res := rtctest.Do(t, http.MethodDelete, srv.URL+pub.Result.Location, hostTok, "", ""); res.Status != http.StatusOK {
		t.Fatalf("DELETE: %d %s", res.Status, res.Body)
	}
	var stream *core.Record
	rtctest.Eventually(t, 10*time.Second, "recording attached", func() bool {
		stream = record(t, app, "live_streams", id)
		return stream.GetString("recording") != ""
	})
	if stream.GetString("status") != "ended" {
		t.Fatalf("status %q", stream.GetString("status"))
	}
	// removed once the record holds it (just after)
	rtctest.Eventually(t, 5*time.Second, "temporary file removed", func() bool {
		left, _ := os.ReadDir(filepath.Join(app.DataDir(), "recordings_tmp"))
		return len(left) == 0
	})
	file := "/api/files/live_streams/" + id + "/" + stream.GetString("recording")

	// ann (Gold) replays it: a WebM with the clip's video and Opus audio.
	status, webmBytes := getFile(t, srv, file, fileToken(t, srv, annTok))
	if status != http.StatusOK {
		t.Fatalf("ann replays: %d %s", status, webmBytes)
	}
	info, err := rtc.InspectRecording(bytes.NewReader(webmBytes))
	if err != nil {
		t.Fatal(err)
	}
	v, a := info.Track("V_VP8"), info.Track("A_OPUS")
	if v == nil || a == nil || v.Keyframes == 0 || v.Blocks < 30 || a.Blocks < 50 {
		t.Fatalf("recording: %+v", info.Tracks)
	}
	if info.Duration < 2*time.Second || info.Duration > 10*time.Second {
		t.Fatalf("duration %s for about three seconds live", info.Duration)
	}
	// Forbidden: below the rank (its own file token), no token at all.
	if status, _ := getFile(t, srv, file, fileToken(t, srv, lowTok)); status != http.StatusNotFound {
		t.Fatalf("bronze member fetches the recording: %d", status)
	}
	if status, _ := getFile(t, srv, file, ""); status != http.StatusNotFound {
		t.Fatalf("fetch without a token: %d", status)
	}
	// A member cannot replace or clear the recording through the record API.
	if status, body := srv.Do(t, http.MethodPatch, "/api/collections/live_streams/records/"+id, hostTok, map[string]any{"recording": nil}); status != http.StatusBadRequest {
		t.Fatalf("host clears recording via the record API: %d %s", status, body)
	}

	// Deleting: bronze learns nothing (404), ann may watch but is not the
	// host (403), the host deletes it (204) and the file is gone.
	del := "/api/salon/live/" + id + "/recording"
	testutil.WantStatus(t, srv, http.MethodDelete, del, lowTok, nil, http.StatusNotFound, "No such live stream")
	testutil.WantStatus(t, srv, http.MethodDelete, del, annTok, nil, http.StatusForbidden, "Only the host")
	testutil.WantStatus(t, srv, http.MethodDelete, del, "", nil, http.StatusUnauthorized, "")
	testutil.WantStatus(t, srv, http.MethodDelete, del, hostTok, nil, http.StatusNoContent, "")
	if record(t, app, "live_streams", id).GetString("recording") != "" {
		t.Fatal("the record still names the recording")
	}
	if status, _ := getFile(t, srv, file, fileToken(t, srv, hostTok)); status != http.StatusNotFound {
		t.Fatalf("deleted recording still served: %d", status)
	}
	testutil.WantStatus(t, srv, http.MethodDelete, del, hostTok, nil, http.StatusNotFound, "no recording")
}

// A stream not chosen for recording leaves no file; an admin may delete any
// recording; nobody uploads one.
func TestUnrecordedLiveAndAdminDeletes(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	host := testutil.CreateUser(t, app, testutil.User{Role: salon.RoleTutor})
	admin := testutil.CreateUser(t, app, testutil.User{Role: salon.RoleAdmin})
	srv := serveRTC(t, app)
	hostTok := testutil.Token(t, host)

	_, body := srv.Do(t, http.MethodPost, "/api/collections/live_streams/records", hostTok, map[string]any{"title": "Off the record"})
	id := testutil.Decode[map[string]any](t, body)["id"].(string)
	pub := rtctest.Publish(t, srv.URL+"/api/rtc/live/"+id+"/whip", hostTok)
	if pub.Result.Status != http.StatusCreated {
		t.Fatalf("publish: %d %s", pub.Result.Status, pub.Result.Body)
	}
	waitStatus(t, app, "live_streams", id, "live")
	time.Sleep(time.Second)
	if res := rtctest.Do(t, http.MethodDelete, srv.URL+pub.Result.Location, hostTok, "", ""); res.Status != http.StatusOK {
		t.Fatalf("DELETE: %d %s", res.Status, res.Body)
	}
	waitStatus(t, app, "live_streams", id, "ended")
	time.Sleep(500 * time.Millisecond) // a recording would be attached by now
	if r := record(t, app, "live_streams", id); r.GetString("recording") != "" {
		t.Fatalf("an unrecorded stream got a recording: %s", r.GetString("recording"))
	}

	// An admin deletes a recording of someone else's stream.
	stream := record(t, app, "live_streams", id)
	f, err := filesystem.NewFileFromBytes([]byte("webm"), "live.webm")
	if err != nil {
		t.Fatal(err)
	}
	stream.Set("recording", f)
	if err := app.Save(stream); err != nil {
		t.Fatal(err)
	}
	testutil.WantStatus(t, srv, http.MethodDelete, "/api/salon/live/"+id+"/recording", testutil.Token(t, admin), nil, http.StatusNoContent, "")
	if record(t, app, "live_streams", id).GetString("recording") != "" {
		t.Fatal("the admin's delete left the recording")
	}
}

// A recording's upload runs beside the media server's events, not on their
// goroutine: while one recording's save is held up (its storage is slow),
// another stream goes live and ends, and its viewer count is written. When
// the app terminates it waits for the upload, so nothing recorded is lost.
func TestSlowRecordingUploadKeepsMediaEventsFlowing(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	host := testutil.CreateUser(t, app, testutil.User{Role: salon.RoleTutor})
	other := testutil.CreateUser(t, app, testutil.User{Role: salon.RoleTutor})
	viewer := testutil.CreateUser(t, app, testutil.User{})
	srv := serveRTC(t, app)
	hostTok, otherTok := testutil.Token(t, host), testutil.Token(t, other)

	// The storage is slow: attaching a recording waits until the test lets
	// it through (the file is checked against the field, this hook, before
	// it is copied to storage).
	uploading, release := make(chan string, 4), make(chan struct{})
	app.OnRecordValidate("live_streams").BindFunc(func(e *core.RecordEvent) error {
		if len(e.Record.GetUnsavedFiles("recording")) > 0 {
			uploading <- e.Record.Id
			<-release
		}
		return e.Next()
	})
	released := false
	let := func() {
		if !released {
			released = true
			close(release)
		}
	}
	t.Cleanup(let)

	create := func(tok string, body map[string]any) string {
		status, raw := srv.Do(t, http.MethodPost, "/api/collections/live_streams/records", tok, body)
		if status != http.StatusOK {
			t.Fatalf("create stream: %d %s", status, raw)
		}
		return testutil.Decode[map[string]any](t, raw)["id"].(string)
	}
	recorded := create(hostTok, map[string]any{"title": "Recorded", "record": true})
	pub := rtctest.Publish(t, srv.URL+"/api/rtc/live/"+recorded+"/whip", hostTok)
	if pub.Result.Status != http.StatusCreated {
		t.Fatalf("publish: %d %s", pub.Result.Status, pub.Result.Body)
	}
	waitStatus(t, app, "live_streams", recorded, "live")
	time.Sleep(2 * time.Second) // two seconds of media
	if res := rtctest.Do(t, http.MethodDelete, srv.URL+pub.Result.Location, hostTok, "", ""); res.Status != http.StatusOK {
		t.Fatalf("DELETE: %d %s", res.Status, res.Body)
	}
	select {
	case id := <-uploading:
		if id != recorded {
			t.Fatalf("upload of %s", id)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the recording was never saved")
	}

	// The upload hangs; another host's stream goes live, gets a viewer
	// (its count is written) and ends: every event reaches the database.
	next := create(otherTok, map[string]any{"title": "Next"})
	pub2 := rtctest.Publish(t, srv.URL+"/api/rtc/live/"+next+"/whip", otherTok)
	if pub2.Result.Status != http.StatusCreated {
		t.Fatalf("publish: %d %s", pub2.Result.Status, pub2.Result.Body)
	}
	waitStatus(t, app, "live_streams", next, "live")
	v := rtctest.View(t, srv.URL+"/api/rtc/live/"+next+"/whep", testutil.Token(t, viewer))
	if v.Result.Status != http.StatusCreated {
		t.Fatalf("view: %d %s", v.Result.Status, v.Result.Body)
	}
	rtctest.Eventually(t, 10*time.Second, "viewer count written", func() bool {
		return record(t, app, "live_streams", next).GetInt("viewer_count") == 1
	})
	v.Close()
	if res := rtctest.Do(t, http.MethodDelete, srv.URL+pub2.Result.Location, otherTok, "", ""); res.Status != http.StatusOK {
		t.Fatalf("DELETE: %d %s", res.Status, res.Body)
	}
	waitStatus(t, app, "live_streams", next, "ended")
	if record(t, app, "live_streams", recorded).GetString("recording") != "" {
		t.Fatal("the held-up recording is attached already")
	}

	// The app terminates while the upload still hangs: it waits for it.
	terminated := make(chan error, 1)
	go func() { terminated <- app.OnTerminate().Trigger(&core.TerminateEvent{App: app}) }()
	select {
	case err := <-terminated:
		t.Fatalf("terminated with an upload under way (%v)", err)
	case <-time.After(500 * time.Millisecond):
	}
	let()
	if err := <-terminated; err != nil {
		t.Fatal(err)
	}
	stream := record(t, app, "live_streams", recorded)
	if stream.GetString("recording") == "" {
		t.Fatal("terminated without the recording")
	}
	if left, _ := os.ReadDir(filepath.Join(app.DataDir(), "recordings_tmp")); len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
}
