package scaling

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBackupWhileMembersWrite takes a PocketBase backup to S3 while
// members write, restores it onto a new data dir the way an operator
// moving to a new machine would (download the zip, unpack it, start the
// binary on it), and counts: every write acknowledged before the backup
// started must be there. Files already on S3 are not in the zip and stay
// readable from the restored server.
func TestBackupWhileMembersWrite(t *testing.T) {
	t.Parallel()
	s3 := startS3(t)
	salon := startSalon(t, newDataDir(t))
	salon.settings(t, map[string]any{
		"s3":         s3.settings(s3.Bucket),
		"backups":    map[string]any{"s3": s3.settings(s3.BackupsBucket)},
		"rateLimits": map[string]any{"enabled": false},
	})
	salon.Root.mustJSON(t, "POST", "/api/settings/test/s3", map[string]any{"filesystem": "backups"}, nil, 204)

	var room record
	salon.Root.mustJSON(t, "POST", "/api/collections/rooms/records", map[string]any{"name": "Lobby"}, &room, 200)
	members := []*client{salon.member(t), salon.member(t), salon.member(t), salon.member(t)}

	pic := pngBytes(t, 32, 32)
	var withPic record
	if status, raw, err := members[0].multipart("POST", "/api/collections/room_messages/records",
		map[string]string{"room": room.Id}, []upload{{"attachments", "p.png", bytes.NewReader(pic)}}, &withPic); err != nil || status != 200 {
		t.Fatalf("post picture: %d %v %.300s", status, err, raw)
	}

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	writes := writeContinuously(ctx, members, room.Id)
	time.Sleep(2 * time.Second)
	started := time.Now()
	salon.Root.mustJSON(t, "POST", "/api/backups", map[string]any{"name": "drill.zip"}, nil, 204)
	finished := time.Now()
	time.Sleep(time.Second)
	stop()
	writes.wait()

	if _, ok := s3.keysIn(t, s3.BackupsBucket, "")["drill.zip"]; !ok {
		t.Fatalf("drill.zip is not in the backups bucket")
	}
	var list []struct{ Key string }
	salon.Root.mustJSON(t, "GET", "/api/backups", nil, &list, 200)
	if len(list) != 1 || list[0].Key != "drill.zip" {
		t.Errorf("GET /api/backups: %+v, want drill.zip", list)
	}

	// the operator downloads the backup and unpacks it on a new machine
	status, zipped := get(t, salon.Base, "/api/backups/drill.zip?token="+salon.Root.fileToken(t))
	if status != 200 {
		t.Fatalf("download backup: %d %.300s", status, zipped)
	}
	if status, _ := get(t, salon.Base, "/api/backups/drill.zip"); status == 200 {
		t.Errorf("backup download without a superuser file token: 200, want refused")
	}
	salon.proc.stop()
	newDir := filepath.Join(t.TempDir(), "pb_data")
	unzip(t, zipped, newDir)
	restored := startSalon(t, newDir)

	present := restored.roomMessageIDs(t, room.Id)
	acked := writes.before(started)
	lost := missing(acked, present)
	during := 0
	for _, a := range writes.all() {
		if !a.At.Before(started) && present[a.ID] {
			during++
		}
	}
	t.Logf("backup took %v (%d KiB zip); %d writes acknowledged before it started, %d lost; "+
		"%d acknowledged during or after it are in it too; %d writes in total",
		finished.Sub(started).Round(time.Millisecond), len(zipped)>>10, len(acked), len(lost), during, len(writes.all()))
	if len(acked) == 0 {
		t.Fatal("no write was acknowledged before the backup: the drill proved nothing")
	}
	if len(lost) > 0 {
		t.Errorf("%d of %d writes acknowledged before the backup started are missing after the restore (first: %s)",
			len(lost), len(acked), lost[0].ID)
	}

	// files were on S3, not in the zip: the restored server still serves them
	member := restored.member(t)
	name := withPic.Attachments[0]
	if status, body := get(t, restored.Base, fileURL("room_messages", withPic.Id, name, member.fileToken(t))); status != 200 || !bytes.Equal(body, pic) {
		t.Errorf("a file stored on S3 before the backup, read from the restored server: %d, want 200 and the picture", status)
	}

	// scheduled backups: every minute here (the README suggests nightly);
	// one appears in the bucket at the next minute
	restored.settings(t, map[string]any{"backups": map[string]any{"cron": "* * * * *", "cronMaxKeep": 2}})
	deadline := time.Now().Add(90 * time.Second)
	for {
		var auto []string
		for k := range s3.keysIn(t, s3.BackupsBucket, "") {
			if strings.HasPrefix(k, "@auto_pb_backup_") {
				auto = append(auto, k)
			}
		}
		if len(auto) > 0 {
			t.Logf("scheduled backup in the bucket: %v", auto)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no scheduled backup appeared in the bucket within 90 s")
		}
		time.Sleep(time.Second)
	}
}

// unzip unpacks a PocketBase backup into dir (what the dashboard's restore
// does, minus the restart).
func unzip(t testing.TB, zipped []byte, dir string) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(zipped), int64(len(zipped)))
	if err != nil {
		t.Fatalf("backup zip: %v", err)
	}
	for _, f := range zr.File {
		dst := filepath.Join(dir, filepath.FromSlash(f.Name))
		if !strings.HasPrefix(dst, filepath.Clean(dir)+string(os.PathSeparator)) {
			t.Fatalf("zip entry outside the data dir: %s", f.Name)
		}
		if f.FileInfo().IsDir() {
			os.MkdirAll(dst, 0o755)
			continue
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := writeZipFile(f, dst); err != nil {
			t.Fatalf("unpack %s: %v", f.Name, err)
		}
	}
}

func writeZipFile(f *zip.File, dst string) error {
	r, err := f.Open()
	if err != nil {
		return err
	}
	defer r.Close()
	w, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, r); err != nil {
		w.Close()
		return fmt.Errorf("copy: %w", err)
	}
	return w.Close()
}
