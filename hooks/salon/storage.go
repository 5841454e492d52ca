package salon

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"syscall"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"
)

// When the disk is full a write fails in SQLite (SQLITE_FULL) or in the
// file storage (ENOSPC). PocketBase answers such a create with 400 "Failed
// to create record.", which tells the client its input was wrong; the
// input was fine and nothing was stored, so the answer is a 503 with
// Retry-After that says so, and the client tries again later.

// sqliteFull is SQLite's primary result code SQLITE_FULL.
const sqliteFull = 13

// RefuseWhenStorageFull is a router-wide middleware: it turns a request
// that failed because the disk is full into 503 storage_full.
func RefuseWhenStorageFull(e *core.RequestEvent) error {
	err := e.Next()
	if err == nil || !StorageFull(err) {
		return err
	}
	e.App.Logger().Error("a write failed: the disk is full", "path", e.Request.URL.Path, "error", err)
	e.Response.Header().Set("Retry-After", "60")
	return Refuse(http.StatusServiceUnavailable, "storage_full",
		"The server cannot store this right now (its disk is full). Nothing was saved: please try again later.")
}

// StorageFull reports whether err (or the error a PocketBase API error
// carries) comes from a full disk.
func StorageFull(err error) bool {
	for err != nil {
		if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
			return true
		}
		var coded interface{ Code() int }
		if errors.As(err, &coded) && coded.Code()&0xff == sqliteFull {
			return true
		}
		if strings.Contains(err.Error(), "database or disk is full") {
			return true
		}
		var apiErr *router.ApiError
		if !errors.As(err, &apiErr) {
			return false
		}
		raw, _ := apiErr.RawData().(error)
		if raw == err {
			return false
		}
		err = raw
	}
	return false
}

// explainDataDir says what SQLite's "unable to open database file" means
// when the data directory is read-only: the database needs to create its
// journal (-wal, -shm) next to it.
func explainDataDir(dir string, err error) error {
	probe, perr := os.CreateTemp(dir, ".salonbase-write-check-*")
	if perr == nil {
		probe.Close()
		os.Remove(probe.Name())
		return err
	}
	if errors.Is(perr, os.ErrNotExist) {
		return err
	}
	cause := errors.Unwrap(perr)
	if cause == nil {
		cause = perr
	}
	return fmt.Errorf("the data directory %s is not writable (%v): Salonbase keeps its database and uploads there and must be able to create files in it; check that it is not mounted read-only and that the server's user (uid %d) owns it: %w",
		dir, cause, os.Geteuid(), err)
}

// bindDataDirCheck explains a start that fails because the data directory
// is not writable.
func bindDataDirCheck(app core.App) {
	app.OnBootstrap().BindFunc(func(e *core.BootstrapEvent) error {
		err := e.Next()
		if err != nil {
			return explainDataDir(e.App.DataDir(), err)
		}
		return nil
	})
}
