package live

import (
	"os"
	"path/filepath"

	"github.com/pocketbase/pocketbase/core"

	"salonbase/hooks/salon"
	"salonbase/rtc"
)

// Recordings a crash left behind: the media server writes a recording to
// recordings_tmp as the stream goes on and hands it over when it ends. A
// process that died first (a crash, a power cut, a kill) leaves the file
// there, cut short. When the app starts serving again, each such file whose
// stream is over is repaired (rtc.RepairRecording) and attached like any
// recording, so what the host recorded until the crash can be replayed; a
// file that cannot be read, or whose stream is gone, is removed. A stream
// still live in the database waits for its publisher to come back: its
// file is dealt with once the stream ends: joined to the recording made
// after the restart when the host comes back (the whole live replays as
// one), else repaired and attached alone.

// recordingsDir holds the recordings under way: next to the database, not
// in a temporary directory that may be small (tmpfs) or cleaned.
func recordingsDir(app core.App) string {
	return filepath.Join(app.DataDir(), "recordings_tmp")
}

// recoverRecordings goes through the files left in the recordings dir. It
// runs as the app starts serving, before the media server takes a publisher,
// so every file in the dir is a previous process's.
func (a *rtcAuthz) recoverRecordings(app core.App) {
	dir := recordingsDir(app)
	entries, err := os.ReadDir(dir)
	if err != nil {
		app.Logger().Error("live: recordings left behind", "error", err)
		return
	}
	for _, ent := range entries {
		path := filepath.Join(dir, ent.Name())
		id, ok := rtc.RecordingStream(ent.Name())
		if !ok || ent.IsDir() {
			// Not a recording (a repair cut short): nothing to keep.
			_ = os.RemoveAll(path)
			continue
		}
		stream, err := app.FindRecordById("live_streams", id)
		switch {
		case err != nil:
			_ = os.Remove(path) // the stream was deleted
		case stream.GetString("status") == "live":
			a.leftoverMu.Lock()
			if a.leftovers == nil {
				a.leftovers = map[string][]string{}
			}
			a.leftovers[id] = append(a.leftovers[id], path)
			a.leftoverMu.Unlock()
		default:
			a.recoverRecording(id, path)
		}
	}
}

// recoverLeftovers deals with the files left by a stream that was live
// when the app started and has now ended.
func (a *rtcAuthz) recoverLeftovers(e *core.RecordEvent) error {
	if e.Record.GetString("status") == "ended" {
		a.leftoverMu.Lock()
		paths := a.leftovers[e.Record.Id]
		delete(a.leftovers, e.Record.Id)
		a.leftoverMu.Unlock()
		for _, p := range paths {
			a.recoverRecording(e.Record.Id, p)
		}
	}
	return e.Next()
}

// recoverRecording repairs a file left behind and attaches it to its
// stream, in the background like any upload. A stream that has a recording
// already keeps it: the crash came after it was attached, before its file
// was removed.
func (a *rtcAuthz) recoverRecording(id, path string) {
	salon.Background(a.app, "live: recover recording", func() error {
		a.uploads <- struct{}{}
		defer func() { <-a.uploads }()
		stream, err := a.app.FindRecordById("live_streams", id)
		if err != nil || stream.GetString("recording") != "" {
			_ = os.Remove(path)
			return nil
		}
		frames, err := rtc.RepairRecording(path)
		if err != nil {
			_ = os.Remove(path)
			a.app.Logger().Warn("live: a recording left by a crash is unreadable; removed", "stream", id, "error", err)
			return nil
		}
		a.app.Logger().Info("live: a recording left by a crash is repaired", "stream", id, "frames", frames)
		a.attachRecording(id, path)
		return nil
	})
}

// recordingAgain: a stream resumed after a restart is recorded again. The
// files the crash left of it wait for the new recording, to be joined
// before it.
func (a *rtcAuthz) recordingAgain(id string) {
	a.leftoverMu.Lock()
	defer a.leftoverMu.Unlock()
	if paths := a.leftovers[id]; len(paths) > 0 {
		delete(a.leftovers, id)
		if a.rejoined == nil {
			a.rejoined = map[string][]string{}
		}
		a.rejoined[id] = append(a.rejoined[id], paths...)
	}
}

// joinLeftovers puts the files a crash left of stream id before its new
// recording at path (rtc.JoinRecordings), in one file at path, and removes
// them. Should the join fail, the new recording stays as it was and the
// leftovers stay on disk: the next start deals with them.
func (a *rtcAuthz) joinLeftovers(id, path string) {
	a.leftoverMu.Lock()
	paths := a.rejoined[id]
	delete(a.rejoined, id)
	a.leftoverMu.Unlock()
	if len(paths) == 0 {
		return
	}
	frames, err := rtc.JoinRecordings(path, append(paths, path)...)
	if err != nil {
		a.app.Logger().Error("live: the recording before the restart could not be joined to the new one", "stream", id, "files", paths, "error", err)
		return
	}
	a.app.Logger().Info("live: the recording before the restart is joined to the new one", "stream", id, "frames", frames)
	for _, p := range paths {
		_ = os.Remove(p)
	}
}
