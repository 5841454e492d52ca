package live_test

import (
	"net/http"
	"sync"
	"testing"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/filesystem"
	"github.com/pocketbase/pocketbase/tools/hook"
	"github.com/pocketbase/pocketbase/tools/types"

	"salonbase/testutil"
)

// A host edits the title at the moment the media server marks the stream
// live and the recorder attaches a recording (between PocketBase's read of
// the record and its save): the edit lands, and the stream stays live with
// its recording and the file in storage.
func TestHostEditKeepsWhatTheServerWroteMeanwhile(t *testing.T) {
	t.Parallel()
	app := testutil.NewApp(t)
	testutil.UpdateSettings(t, app, map[string]any{"live_min_rank": testutil.RankID(t, app, "Silver")})
	host := testutil.CreateUser(t, app, testutil.User{Name: "Hana", Rank: "Gold"})
	srv := testutil.Serve(t, app)
	hostTok := testutil.Token(t, host)
	status, body := srv.Do(t, http.MethodPost, "/api/collections/live_streams/records", hostTok, map[string]any{"title": "Before", "record": true})
	if status != http.StatusOK {
		t.Fatalf("create stream: %d %s", status, body)
	}
	id := testutil.Decode[map[string]any](t, body)["id"].(string)

	// the server's writes, once, after PocketBase has read the record for
	// the host's request and before any hook of ours runs
	var once sync.Once
	app.OnRecordUpdateRequest("live_streams").Bind(&hook.Handler[*core.RecordRequestEvent]{
		Priority: -100,
		Func: func(e *core.RecordRequestEvent) error {
			once.Do(func() {
				stream, err := app.FindRecordById("live_streams", id)
				if err != nil {
					t.Error(err)
					return
				}
				file, err := filesystem.NewFileFromBytes([]byte("webm"), "live.webm")
				if err != nil {
					t.Error(err)
					return
				}
				stream.Set("status", "live")
				stream.Set("started_at", types.NowDateTime())
				stream.Set("viewer_count", 3)
				stream.Set("recording", file)
				if err := app.Save(stream); err != nil {
					t.Error(err)
				}
			})
			return e.Next()
		},
	})

	status, body = srv.Do(t, http.MethodPatch, "/api/collections/live_streams/records/"+id, hostTok, map[string]any{"title": "After"})
	if status != http.StatusOK {
		t.Fatalf("edit: %d %s", status, body)
	}
	answer := testutil.Decode[map[string]any](t, body)
	stream := record(t, app, "live_streams", id)
	if stream.GetString("title") != "After" || stream.GetString("status") != "live" || stream.GetInt("viewer_count") != 3 ||
		stream.GetString("started_at") == "" || stream.GetString("recording") == "" {
		t.Fatalf("stored after the edit: title %q, status %q, viewers %d, started %q, recording %q",
			stream.GetString("title"), stream.GetString("status"), stream.GetInt("viewer_count"), stream.GetString("started_at"), stream.GetString("recording"))
	}
	if answer["status"] != "live" || answer["title"] != "After" {
		t.Fatalf("the answer: status %v, title %v", answer["status"], answer["title"])
	}
	fsys, err := app.NewFilesystem()
	if err != nil {
		t.Fatal(err)
	}
	defer fsys.Close()
	if ok, err := fsys.Exists(stream.BaseFilesPath() + "/" + stream.GetString("recording")); err != nil || !ok {
		t.Fatalf("the recording's file is gone from storage: %v %v", ok, err)
	}

	// an edit that does end the stream still does
	status, body = srv.Do(t, http.MethodPatch, "/api/collections/live_streams/records/"+id, hostTok, map[string]any{"status": "ended"})
	if status != http.StatusOK || record(t, app, "live_streams", id).GetString("status") != "ended" {
		t.Fatalf("end: %d %s", status, body)
	}
}
