package live

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"
)

// A recording attached while another write changes the same stream (here
// its title, written the moment the recording's save begins) keeps that
// write: the recording is set on the stream as it is then, not on the copy
// read before the file was stored.
func TestAttachRecordingKeepsConcurrentWrite(t *testing.T) {
	t.Parallel()
	app, streams := bareStreams(t, &core.TextField{Name: "title"},
		&core.FileField{Name: "recording", MaxSelect: 1, MaxSize: 1 << 20, Protected: true})
	stream := core.NewRecord(streams)
	stream.Set("title", "Before")
	if err := app.Save(stream); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "rec.webm")
	if err := os.WriteFile(path, []byte("the recording"), 0o600); err != nil {
		t.Fatal(err)
	}

	// The other write: one column, through the app's write connection, as
	// the recording's save starts. It may have to wait for that save (the
	// hook waits a while for it, then goes on).
	var once sync.Once
	other := make(chan error, 1)
	app.OnRecordUpdate("live_streams").BindFunc(func(e *core.RecordEvent) error {
		once.Do(func() {
			go func() {
				_, err := app.NonconcurrentDB().NewQuery("UPDATE live_streams SET title = 'After' WHERE id = {:id}").
					Bind(map[string]any{"id": stream.Id}).Execute()
				other <- err
			}()
			select {
			case err := <-other:
				other <- err
			case <-time.After(500 * time.Millisecond):
			}
		})
		return e.Next()
	})

	a := &rtcAuthz{app: app}
	a.attachRecording(stream.Id, path)
	if err := <-other; err != nil {
		t.Fatalf("the other write: %v", err)
	}
	got, err := app.FindRecordById("live_streams", stream.Id)
	if err != nil {
		t.Fatal(err)
	}
	if got.GetString("title") != "After" {
		t.Fatalf("the other write was lost: title %q", got.GetString("title"))
	}
	name := got.GetString("recording")
	if name == "" {
		t.Fatal("no recording attached")
	}
	fsys, err := app.NewFilesystem()
	if err != nil {
		t.Fatal(err)
	}
	defer fsys.Close()
	if ok, err := fsys.Exists(got.BaseFilesPath() + "/" + name); !ok || err != nil {
		t.Fatalf("the recording %s is not in storage: %v", name, err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("the local file was not removed once attached: %v", err)
	}
}

// The other way round: the stream ends (the media server's write) while the
// recording is being attached. The end is saved on the stream as it is
// then, so the recording attached meanwhile stays (a save of the record
// read before would write its empty recording back).
func TestStreamEndedKeepsRecordingAttachedMeanwhile(t *testing.T) {
	t.Parallel()
	app, streams := bareStreams(t, &core.TextField{Name: "status"}, &core.DateField{Name: "ended_at"},
		&core.NumberField{Name: "viewer_count"},
		&core.FileField{Name: "recording", MaxSelect: 1, MaxSize: 1 << 20, Protected: true})
	stream := core.NewRecord(streams)
	stream.Set("status", "live")
	stream.Set("viewer_count", 3)
	if err := app.Save(stream); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "rec.webm")
	if err := os.WriteFile(path, []byte("the recording"), 0o600); err != nil {
		t.Fatal(err)
	}

	// As the end's save starts, the recording is attached beside it (given
	// half a second to land first, which it can only if the end holds no
	// transaction).
	a := &rtcAuthz{app: app}
	var once sync.Once
	attached := make(chan struct{})
	app.OnRecordUpdate("live_streams").BindFunc(func(e *core.RecordEvent) error {
		if e.Record.GetString("status") == "ended" {
			once.Do(func() {
				go func() {
					a.attachRecording(stream.Id, path)
					close(attached)
				}()
				select {
				case <-attached:
				case <-time.After(500 * time.Millisecond):
				}
			})
		}
		return e.Next()
	})
	a.streamEnded(stream.Id)
	<-attached

	got, err := app.FindRecordById("live_streams", stream.Id)
	if err != nil {
		t.Fatal(err)
	}
	if got.GetString("status") != "ended" || got.GetInt("viewer_count") != 0 || got.GetDateTime("ended_at").IsZero() {
		t.Fatalf("the end was not saved: %v", got.FieldsData())
	}
	if got.GetString("recording") == "" {
		t.Fatal("the recording attached while the stream ended was lost")
	}
}
