package scaling

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// smallDisk mounts a tmpfs of sizeMB at a new folder: a real file system
// that fills up. Mounting needs root (CAP_SYS_ADMIN); without it the test
// is skipped, and says why.
func smallDisk(t *testing.T, sizeMB int) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%dm", sizeMB)); err != nil {
		t.Skipf("cannot mount a %d MiB tmpfs to fill (needs root): %v", sizeMB, err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// TestFullDiskAnswers503 fills the disk under a running server (a 16 MiB
// tmpfs holding its data dir) and writes: the write that no longer fits is
// answered 503 storage_full with Retry-After, not 400 (the input was
// fine), nothing acknowledged is lost, and once space is freed the same
// write succeeds.
func TestFullDiskAnswers503(t *testing.T) {
	t.Parallel()
	disk := smallDisk(t, 16)
	dir := filepath.Join(disk, "pb_data")
	runCmd(t, env.salonbase, "superuser", "upsert", rootEmail, rootPassword, "--dir", dir)
	salon := startSalon(t, dir)
	salon.settings(t, map[string]any{"rateLimits": map[string]any{"enabled": false}})
	var room record
	salon.Root.mustJSON(t, "POST", "/api/collections/rooms/records", map[string]any{"name": "Lobby"}, &room, 200)
	member := salon.member(t)

	filler := filepath.Join(disk, "filler")
	fillDisk(t, filler)
	var acked []ack
	status, raw := 0, []byte(nil)
	for i := 0; i < 5000; i++ {
		var r record
		var err error
		status, raw, err = member.do("POST", "/api/collections/room_messages/records",
			map[string]any{"room": room.Id, "body": fmt.Sprintf("message %d %s", i, strings.Repeat("x", 2000))}, &r)
		if err != nil {
			t.Fatalf("write %d on a full disk: %v", i, err)
		}
		if status != 200 {
			break
		}
		acked = append(acked, ack{ID: r.Id})
	}
	t.Logf("%d writes fitted in what the full disk had left; then: %d %s", len(acked), status, raw)
	if status != 503 || !strings.Contains(string(raw), `"storage_full"`) || !strings.Contains(string(raw), "try again later") {
		t.Fatalf("a write on a full disk must answer 503 storage_full (retry later), got %d %s", status, raw)
	}
	req, err := http.NewRequest("POST", salon.Base+"/api/collections/room_messages/records",
		strings.NewReader(fmt.Sprintf(`{"room":%q,"body":%q}`, room.Id, strings.Repeat("y", 2000))))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", member.token)
	res, err := member.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 503 || res.Header.Get("Retry-After") == "" {
		t.Errorf("a write on a full disk: %d, Retry-After %q; want 503 with Retry-After", res.StatusCode, res.Header.Get("Retry-After"))
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	member.mustJSON(t, "POST", "/api/collections/room_messages/records", map[string]any{"room": room.Id, "body": "space again"}, nil, 200)
	if lost := missing(acked, salon.roomMessageIDs(t, room.Id)); len(lost) > 0 {
		t.Errorf("%d acknowledged writes lost on the full disk", len(lost))
	}
}

// fillDisk writes path until the file system has no space left.
func fillDisk(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				return
			}
			t.Fatalf("fill the disk: %v", err)
		}
	}
}

// TestReadOnlyDataDirSaysSo starts the server on a data dir it cannot
// write to (a read-only mount as root, else a folder without write
// permission): it stops, saying the directory is not writable, instead of
// SQLite's "unable to open database file (14)".
func TestReadOnlyDataDirSaysSo(t *testing.T) {
	t.Parallel()
	var dir string
	if os.Geteuid() == 0 {
		// root writes through permissions: make the mount itself read-only
		disk := smallDisk(t, 64)
		dir = filepath.Join(disk, "pb_data")
		runCmd(t, env.salonbase, "superuser", "upsert", rootEmail, rootPassword, "--dir", dir)
		if err := syscall.Mount("", disk, "", syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
			t.Fatalf("remount read-only: %v", err)
		}
	} else {
		dir = newDataDir(t)
		if err := os.Chmod(dir, 0o555); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(dir, 0o755) })
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, env.salonbase, "serve", "--http", freeAddr(t), "--dir", dir)
	cmd.Env = drillEnviron()
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the server started on a read-only data dir:\n%s", out)
	}
	if !strings.Contains(string(out), "is not writable") || !strings.Contains(string(out), dir) {
		t.Fatalf("the start must say that the data directory is not writable, said:\n%s", out)
	}
}
