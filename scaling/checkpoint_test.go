package scaling

import (
	"database/sql"
	"fmt"
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
		func(t *testing.T, db string, writes *ackLog) {
			conn, err := sql.Open("sqlite", "file:"+db+"?_pragma=busy_timeout(10000)")
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
