package scaling

import (
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

// TestLitestreamForcedCheckpoint runs PocketBase's nightly checkpoint of
// data.db, PRAGMA wal_checkpoint(TRUNCATE) with PocketBase's busy timeout,
// while the server writes under Litestream, then loses the machine: the
// restored replica must have every write older than the replication lag (no
// gap around the checkpoint). It logs what the checkpoint did and the longest
// pause between acknowledged writes while it ran: the reason salonbase leaves
// data.db's checkpoints to Litestream when Litestream manages it.
func TestLitestreamForcedCheckpoint(t *testing.T) {
	replica := filepath.Join(t.TempDir(), "replica")
	litestreamDrill(t, fmt.Sprintf("    replica:\n      type: file\n      path: %s\n      sync-interval: 1s\n", replica),
		func(t *testing.T, salon *salon, writes *ackLog) {
			conn, err := sql.Open("sqlite", "file:"+filepath.Join(salon.Dir, "data.db")+"?_pragma=busy_timeout(10000)")
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			start := time.Now()
			var busy, walFrames, moved int
			err = conn.QueryRow("PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &walFrames, &moved)
			took := time.Since(start)
			time.Sleep(time.Second) // the writes just after it
			t.Logf("wal_checkpoint(TRUNCATE) under Litestream: busy=%d wal_frames=%d checkpointed=%d err=%v, took %v; longest pause between acknowledged writes meanwhile: %v",
				busy, walFrames, moved, err, took.Round(time.Millisecond), longestPause(writes.all(), start, start.Add(took+time.Second)).Round(time.Millisecond))
		})
}

// TestLitestreamBackup takes a PocketBase backup (POST /api/backups, the
// dashboard's button and the scheduled backups) while members write under
// Litestream, then loses the machine: the restored replica must have every
// write older than the replication lag, and the backup must hold every
// write acknowledged before it started. PocketBase's own backup runs a
// TRUNCATE checkpoint of data.db, which would hold every write for up to its
// 10 s busy timeout under Litestream; salonbase's backup leaves the
// checkpoint to Litestream. It logs how long the backup took and the
// longest pause between acknowledged writes while it ran.
func TestLitestreamBackup(t *testing.T) {
	replica := filepath.Join(t.TempDir(), "replica")
	litestreamDrill(t, fmt.Sprintf("    replica:\n      type: file\n      path: %s\n      sync-interval: 1s\n", replica),
		func(t *testing.T, salon *salon, writes *ackLog) {
			start := time.Now()
			salon.Root.mustJSON(t, "POST", "/api/backups", map[string]any{"name": "drill.zip"}, nil, 204)
			took := time.Since(start)
			time.Sleep(time.Second) // the writes just after it
			t.Logf("backup under Litestream took %v; longest pause between acknowledged writes meanwhile: %v",
				took.Round(time.Millisecond), longestPause(writes.all(), start, start.Add(took+time.Second)).Round(time.Millisecond))

			status, zipped := get(t, salon.Base, "/api/backups/drill.zip?token="+salon.Root.fileToken(t))
			if status != 200 {
				t.Fatalf("download backup: %d %.300s", status, zipped)
			}
			dir := filepath.Join(t.TempDir(), "pb_data")
			unzip(t, zipped, dir)
			for _, name := range []string{"data.db-wal", "data.db-shm", "auxiliary.db-wal", "backups/drill.zip"} {
				if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
					t.Errorf("the backup holds %s", name)
				}
			}
			restored := startSalon(t, dir)
			defer restored.proc.stop()
			acked := writes.before(start)
			if lost := missing(acked, restored.roomMessageIDs(t, lobby(t, restored))); len(lost) > 0 {
				t.Errorf("%d of %d writes acknowledged before the backup started are not in it", len(lost), len(acked))
			}
		})
}

// longestPause is the longest time between two acknowledged writes (or the
// window's edges) within [from, to].
func longestPause(acks []ack, from, to time.Time) time.Duration {
	var at []time.Time
	for _, a := range acks {
		if a.At.After(from) && a.At.Before(to) {
			at = append(at, a.At)
		}
	}
	sort.Slice(at, func(i, j int) bool { return at[i].Before(at[j]) })
	prev, longest := from, time.Duration(0)
	for _, t := range append(at, to) {
		if d := t.Sub(prev); d > longest {
			longest = d
		}
		prev = t
	}
	return longest
}

// lobby is the id of the drill's room.
func lobby(t *testing.T, s *salon) string {
	t.Helper()
	var list struct{ Items []record }
	s.Root.mustJSON(t, "GET", "/api/collections/rooms/records?filter="+url.QueryEscape("name='Lobby'"), nil, &list, 200)
	if len(list.Items) != 1 {
		t.Fatalf("rooms named Lobby: %d, want 1", len(list.Items))
	}
	return list.Items[0].Id
}
