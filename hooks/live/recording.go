package live

import (
	"errors"
	"fmt"
	"net/http"
	"os"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/filesystem"

	"salonbase/hooks/salon"
)

// Recordings: a host who sets live_streams.record before going live gets
// the stream recorded by the media server (rtc/record.go). When the stream
// ends the WebM file is attached to the record's protected `recording`
// field through the app's filesystem (local or S3), so the collection's
// view rule (the same rank rule as watching live) decides who may replay
// it with a file token. The host and admins delete it with
// DELETE /api/salon/live/{id}/recording.

// recordingUploads is how many recordings are attached at once: each one
// copies a whole file to the app's storage (S3 maybe), so a burst of
// streams ending together must not open a connection per stream.
const recordingUploads = 2

// streamRecorded hands a finished recording to a background upload: the
// media server's events (a stream going live, ending, its viewer count)
// run one at a time on one goroutine, and a slow storage must not hold
// them up. The app waits for the uploads when it terminates.
func (a *rtcAuthz) streamRecorded(id, path string) {
	salon.Background(a.app, "live: attach recording", func() error {
		a.uploads <- struct{}{}
		defer func() { <-a.uploads }()
		a.joinLeftovers(id, path)
		a.attachRecording(id, path)
		return nil
	})
}

// attachRecording attaches a finished recording to its stream. The file is
// removed once saved; on a failed save it is kept and its path logged, so
// an operator can still attach it by hand.
//
// The file is checked against the field and copied to storage (a long copy
// on S3) first, outside any transaction; then the stream is read again and
// only its recording set, in one transaction, so that a write to the stream
// meanwhile (it ending, its viewer count, the host's title) is not
// overwritten with what the record held before the copy.
func (a *rtcAuthz) attachRecording(id, path string) {
	stream, err := a.app.FindRecordById("live_streams", id)
	if err != nil {
		// Deleted meanwhile: nobody can replay it any more.
		_ = os.Remove(path)
		return
	}
	f, err := filesystem.NewFileFromPath(path)
	if err != nil {
		a.app.Logger().Error("live: recording unreadable", "stream", id, "path", path, "error", err)
		return
	}
	f.OriginalName = "live-" + id + ".webm"
	stream.Set("recording", f)
	if err := a.app.Validate(stream); err != nil {
		a.app.Logger().Error("live: recording refused; the file is kept", "stream", id, "path", path, "error", err)
		return
	}
	fsys, err := a.app.NewFilesystem()
	if err != nil {
		a.app.Logger().Error("live: attach recording; the file is kept", "stream", id, "path", path, "error", err)
		return
	}
	defer fsys.Close()
	key := stream.BaseFilesPath() + "/" + f.Name
	if err := fsys.UploadFile(f, key); err != nil {
		a.app.Logger().Error("live: store recording; the file is kept", "stream", id, "path", path, "error", err)
		return
	}
	gone := false
	err = a.app.RunInTransaction(func(tx core.App) error {
		fresh, err := tx.FindRecordById("live_streams", id)
		if err != nil {
			gone = true
			return err
		}
		fresh.Set("recording", f.Name)
		// Validated above with the file; now it is in storage under the
		// name set, which validation would refuse as a plain file name
		// (it checks what an upload through the API may set).
		return tx.SaveNoValidate(fresh)
	})
	if err != nil {
		_ = fsys.Delete(key)
		if gone {
			_ = os.Remove(path)
			return
		}
		a.app.Logger().Error("live: attach recording; the file is kept", "stream", id, "path", path, "error", err)
		return
	}
	_ = os.Remove(path)
}

// checkRecordFields refuses a request that sets the recording itself, or
// changes whether the stream is recorded once it has gone live.
func checkRecordFields(e *core.RecordRequestEvent, orig *core.Record) error {
	if e.HasSuperuserAuth() {
		return nil
	}
	if len(e.Record.GetUnsavedFiles("recording")) > 0 || (orig == nil && e.Record.GetString("recording") != "") ||
		(orig != nil && e.Record.GetString("recording") != orig.GetString("recording")) {
		return e.BadRequestError("The recording is made by the server; delete it with DELETE /api/salon/live/{id}/recording.", nil)
	}
	if orig != nil && orig.GetString("status") != "scheduled" && e.Record.GetBool("record") != orig.GetBool("record") {
		return e.BadRequestError("Whether a stream is recorded is chosen before it goes live.", nil)
	}
	return nil
}

// deleteRecording removes a stream's recording: its host and admins only.
func deleteRecording(e *core.RequestEvent) error {
	stream, err := e.App.FindRecordById("live_streams", e.Request.PathValue("id"))
	if err != nil {
		return e.NotFoundError("No such live stream.", nil)
	}
	superuser := e.Auth.IsSuperuser()
	if !superuser {
		if err := CanWatch(e.App, e.Auth, stream); err != nil {
			// Those who may not see the stream learn nothing of it.
			if r := (*salon.Refusal)(nil); errors.As(err, &r) && r.Code == "suspended" {
				return err
			}
			return e.NotFoundError("No such live stream.", nil)
		}
		if stream.GetString("host") != e.Auth.Id && !salon.IsAdmin(e.Auth) {
			return salon.Deny("not_yours", "Only the host of the stream or an admin can delete its recording.")
		}
	}
	if stream.GetString("recording") == "" {
		return e.NotFoundError("This stream has no recording.", nil)
	}
	stream.Set("recording", nil)
	if err := e.App.Save(stream); err != nil {
		return fmt.Errorf("delete recording of %s: %w", stream.Id, err)
	}
	return e.NoContent(http.StatusNoContent)
}
