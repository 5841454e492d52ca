package live

import (
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"
)

// TestViewerCountWriteStopsAtShutdown: a viewer count reported just before
// the app terminates would be written a second later, on an app that is
// shutting down (with its database closed, the write panics). After the
// terminate hooks nothing is written.
func TestViewerCountWriteStopsAtShutdown(t *testing.T) {
	t.Parallel()
	// the two fields of live_streams the count writes
	app, streams := bareStreams(t, &core.TextField{Name: "status"}, &core.NumberField{Name: "viewer_count"})
	stream := core.NewRecord(streams)
	stream.Set("status", "live")
	if err := app.Save(stream); err != nil {
		t.Fatal(err)
	}

	a := &rtcAuthz{app: app}
	a.bindCounts(app)
	a.viewerCount(stream.Id, 3)
	// what `serve` does on SIGTERM, up to closing the database
	event := new(core.TerminateEvent)
	event.App = app
	if err := app.OnTerminate().Trigger(event); err != nil {
		t.Fatal(err)
	}
	a.viewerCount(stream.Id, 4) // the closing media server's last word

	time.Sleep(1500 * time.Millisecond) // past the second after which the write was due
	got, err := app.FindRecordById("live_streams", stream.Id)
	if err != nil {
		t.Fatal(err)
	}
	if n := got.GetInt("viewer_count"); n != 0 {
		t.Fatalf("viewer_count %d was written after the app terminated", n)
	}
}

// bareStreams is a bootstrapped app with no migrations and a live_streams
// collection of only the fields given: the internal tests drive the media
// server's writes without the rest of the salon.
func bareStreams(t *testing.T, fields ...core.Field) (core.App, *core.Collection) {
	t.Helper()
	app := core.NewBaseApp(core.BaseAppConfig{DataDir: t.TempDir()})
	if err := app.Bootstrap(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { app.ClearBootstrap() })
	streams := core.NewBaseCollection("live_streams")
	streams.Fields.Add(fields...)
	if err := app.Save(streams); err != nil {
		t.Fatal(err)
	}
	return app, streams
}
