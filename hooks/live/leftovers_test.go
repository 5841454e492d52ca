package live_test

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"

	"salonbase/hooks/salon"
	"salonbase/rtc"
	"salonbase/rtc/rtctest"
	"salonbase/testutil"
)

// recordingSnapshot records a live for a few seconds and copies its file
// as it is on disk while the stream is still live: what a crash leaves.
func recordingSnapshot(t *testing.T) []byte {
	t.Helper()
	app := testutil.NewApp(t)
	host := testutil.CreateUser(t, app, testutil.User{Role: salon.RoleTutor})
	srv := serveRTC(t, app)
	tok := testutil.Token(t, host)
	status, body := srv.Do(t, http.MethodPost, "/api/collections/live_streams/records", tok, map[string]any{"title": "Cut short", "record": true})
	if status != http.StatusOK {
		t.Fatalf("create stream: %d %s", status, body)
	}
	id := testutil.Decode[map[string]any](t, body)["id"].(string)
	pub := rtctest.Publish(t, srv.URL+"/api/rtc/live/"+id+"/whip", tok)
	if pub.Result.Status != http.StatusCreated {
		t.Fatalf("publish: %d %s", pub.Result.Status, pub.Result.Body)
	}
	waitStatus(t, app, "live_streams", id, "live")
	dir := filepath.Join(app.DataDir(), "recordings_tmp")
	var snap []byte
	rtctest.Eventually(t, 15*time.Second, "two seconds recorded", func() bool {
		ents, _ := os.ReadDir(dir)
		if len(ents) != 1 || !strings.HasPrefix(ents[0].Name(), "live-"+id+"-") {
			return false
		}
		b, err := os.ReadFile(filepath.Join(dir, ents[0].Name()))
		if err != nil {
			t.Fatal(err)
		}
		info, err := rtc.InspectRecording(bytes.NewReader(b))
		if err != nil { // caught mid-frame: try again
			return false
		}
		v := info.Track("V_VP8")
		snap = b
		return v != nil && v.Last > 2*time.Second
	})
	pub.Close()
	return snap
}

// At start, recordings a crash left behind are repaired and attached to
// their ended streams (the part recorded until the crash can be replayed);
// unreadable ones and those of deleted streams are removed; the file of a
// stream still live waits until the stream ends.
func TestRecordingsLeftByACrash(t *testing.T) {
	t.Parallel()
	snap := recordingSnapshot(t)
	cut := snap[:len(snap)-5] // its last frame half written

	app := testutil.NewApp(t)
	host := testutil.CreateUser(t, app, testutil.User{Role: salon.RoleTutor})
	newStream := func(status string) string {
		t.Helper()
		r := core.NewRecord(testutil.MustCollection(t, app, "live_streams"))
		r.Load(map[string]any{"title": status, "host": host.Id, "record": true, "status": status})
		if err := app.Save(r); err != nil {
			t.Fatal(err)
		}
		return r.Id
	}
	ended, unreadable, live := newStream("ended"), newStream("ended"), newStream("live")
	dir := filepath.Join(app.DataDir(), "recordings_tmp")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"live-" + ended + "-111.webm":      cut,
		"live-" + unreadable + "-222.webm": snap[:200], // cut inside its header
		"live-" + live + "-333.webm":       cut,
		"live-deletedstream-444.webm":      cut,
		"repair-555.webm":                  cut[:1000], // a repair cut short
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}

	srv := serveRTC(t, app)
	replay := func(id string) rtc.RecordingInfo {
		t.Helper()
		var name string
		rtctest.Eventually(t, 15*time.Second, "recording of "+id+" attached", func() bool {
			name = record(t, app, "live_streams", id).GetString("recording")
			return name != ""
		})
		status, b := getFile(t, srv, "/api/files/live_streams/"+id+"/"+name, fileToken(t, srv, testutil.Token(t, host)))
		if status != http.StatusOK {
			t.Fatalf("replay: %d %s", status, b)
		}
		info, err := rtc.InspectRecording(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		v, a := info.Track("V_VP8"), info.Track("A_OPUS")
		if v == nil || a == nil || v.Keyframes == 0 || v.Blocks < 40 || a.Blocks < 60 || !v.Ordered {
			t.Fatalf("repaired recording: %+v", info.Tracks)
		}
		if info.Cues == 0 || info.Duration < 2*time.Second || info.Duration < v.Last {
			t.Fatalf("repaired recording: duration %s, cues %d, last video %s", info.Duration, info.Cues, v.Last)
		}
		return info
	}
	replay(ended)
	salon.WaitBackground(app)
	left := func() []string {
		ents, _ := os.ReadDir(dir)
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		return names
	}
	if got := left(); len(got) != 1 || got[0] != "live-"+live+"-333.webm" {
		t.Fatalf("files left: %v (only the live stream's should be)", got)
	}
	if r := record(t, app, "live_streams", unreadable); r.GetString("recording") != "" {
		t.Fatalf("an unreadable leftover was attached: %s", r.GetString("recording"))
	}

	// The live stream's host ends it: its part until the crash is attached.
	tok := testutil.Token(t, host)
	if status, body := srv.Do(t, http.MethodPatch, "/api/collections/live_streams/records/"+live, tok, map[string]any{"status": "ended"}); status != http.StatusOK {
		t.Fatalf("end the stream: %d %s", status, body)
	}
	replay(live)
	salon.WaitBackground(app)
	if got := left(); len(got) != 0 {
		t.Fatalf("files left: %v", got)
	}
}

// The server crashed while a recorded stream was live; the host comes back
// after the restart and goes on, recorded again, then ends the stream. The
// recording attached holds the whole live: the part before the crash
// (repaired) and the part after, in one file, one after the other.
func TestResumedRecordingKeepsThePartBeforeTheCrash(t *testing.T) {
	snap := recordingSnapshot(t)
	before, err := rtc.InspectRecording(bytes.NewReader(snap))
	if err != nil {
		t.Fatal(err)
	}
	bv := before.Track("V_VP8")

	app := testutil.NewApp(t)
	host := testutil.CreateUser(t, app, testutil.User{Role: salon.RoleTutor})
	r := core.NewRecord(testutil.MustCollection(t, app, "live_streams"))
	r.Load(map[string]any{"title": "Crashed", "host": host.Id, "record": true, "status": "live", "started_at": types.NowDateTime()})
	if err := app.Save(r); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(app.DataDir(), "recordings_tmp")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	// What the crash left: the file with its last frame half written.
	if err := os.WriteFile(filepath.Join(dir, "live-"+r.Id+"-111.webm"), snap[:len(snap)-5], 0o600); err != nil {
		t.Fatal(err)
	}

	srv := serveRTC(t, app)
	tok := testutil.Token(t, host)
	pub := rtctest.Publish(t, srv.URL+"/api/rtc/live/"+r.Id+"/whip", tok)
	if pub.Result.Status != http.StatusCreated {
		t.Fatalf("publish again: %d %s", pub.Result.Status, pub.Result.Body)
	}
	rtctest.Eventually(t, 20*time.Second, "recording again", func() bool {
		ents, _ := os.ReadDir(dir)
		return len(ents) == 2
	})
	pub.SendFor(t, 3*time.Second) // three seconds of media after the restart
	if res := rtctest.Do(t, http.MethodDelete, srv.URL+pub.Result.Location, tok, "", ""); res.Status != http.StatusOK {
		t.Fatalf("DELETE: %d %s", res.Status, res.Body)
	}
	var name string
	rtctest.Eventually(t, 15*time.Second, "recording attached", func() bool {
		name = record(t, app, "live_streams", r.Id).GetString("recording")
		return name != ""
	})
	salon.WaitBackground(app)
	status, b := getFile(t, srv, "/api/files/live_streams/"+r.Id+"/"+name, fileToken(t, srv, tok))
	if status != http.StatusOK {
		t.Fatalf("replay: %d %s", status, b)
	}
	info, err := rtc.InspectRecording(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	v, a := info.Track("V_VP8"), info.Track("A_OPUS")
	if v == nil || a == nil || !v.Ordered || !a.Ordered || v.Keyframes < 2 {
		t.Fatalf("recording: %+v", info.Tracks)
	}
	// The part before the crash, then what came after the restart: about
	// three seconds, fewer on a loaded machine, and at least half of them.
	// (The part after the restart alone, all the file held before the
	// join, ends near 3 s with about 90 frames: short of both bounds.)
	if v.Blocks < bv.Blocks+45 || v.Last < bv.Last+1500*time.Millisecond || info.Duration < v.Last {
		t.Fatalf("recording: %d video frames to %s (before the crash: %d to %s), duration %s",
			v.Blocks, v.Last, bv.Blocks, bv.Last, info.Duration)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("files left: %v", ents)
	}
}
