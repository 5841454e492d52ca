package scaling

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"
)

// TestLitestreamKill9 runs salonbase under `litestream replicate -exec`,
// lets members write, kills both processes at once with SIGKILL (the
// machine is lost: its disk too), restores data.db onto a fresh data dir
// with `litestream restore`, starts the server on it, and counts the
// acknowledged writes lost. Once with a directory replica, once with S3.
func TestLitestreamKill9(t *testing.T) {
	t.Run("file replica", func(t *testing.T) {
		replica := filepath.Join(t.TempDir(), "replica")
		litestreamDrill(t, fmt.Sprintf("    replica:\n      type: file\n      path: %s\n      sync-interval: 1s\n", replica), nil)
	})
	t.Run("s3 replica", func(t *testing.T) {
		s3 := startS3(t)
		litestreamDrill(t, fmt.Sprintf(`    replica:
      type: s3
      bucket: %s
      path: litestream/data.db
      endpoint: %s
      region: %s
      force-path-style: true
      access-key-id: %s
      secret-access-key: %s
      sync-interval: 1s
`, s3.Bucket, s3.Endpoint, s3.Region, s3.AccessKey, s3.Secret), nil)
		if len(s3.keys(t, "litestream/")) == 0 {
			t.Error("no litestream objects in the bucket")
		}
	})
}

// The writes acknowledged within this long before the kill may be lost
// (Litestream ships the WAL every sync-interval, 1 s here); anything older
// must survive. The margin covers a busy CI machine; the measured figures
// are in BENCHMARKS.md.
const replicationLagAllowed = 5 * time.Second

// litestreamDrill runs the drill; midway, when not nil, runs against the
// server (its data.db is salon.Dir/data.db) while the members write, halfway
// to the kill.
func litestreamDrill(t *testing.T, replicaYAML string, midway func(t *testing.T, salon *salon, writes *ackLog)) {
	dir := newDataDir(t)
	cfg := filepath.Join(t.TempDir(), "litestream.yml")
	db := filepath.Join(dir, "data.db")
	if err := os.WriteFile(cfg, []byte("dbs:\n  - path: "+db+"\n"+replicaYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	salon := startSalonWith(t, dir, addr, env.litestream, "replicate", "-config", cfg,
		"-exec", fmt.Sprintf("%s serve --http %s --dir %s", env.salonbase, addr, dir))
	// Litestream writes to data.db itself once the server has migrated it
	// (its own tables); a member's write in that moment can fail as a busy
	// SQLite snapshot (400 "Failed to create record."). The drill measures
	// what replication loses, so it begins once replication runs.
	salon.proc.waitLog(t, "snapshot complete", time.Minute)
	salon.settings(t, map[string]any{"rateLimits": map[string]any{"enabled": false}})

	var room record
	salon.Root.mustJSON(t, "POST", "/api/collections/rooms/records", map[string]any{"name": "Lobby"}, &room, 200)
	members := []*client{salon.member(t), salon.member(t), salon.member(t), salon.member(t)}

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	writes := writeContinuously(ctx, members, room.Id)
	started := time.Now()
	if midway != nil {
		time.Sleep(3 * time.Second)
		midway(t, salon, writes)
	}
	time.Sleep(6*time.Second - time.Since(started))
	killed := time.Now()
	salon.proc.kill9()
	stop()
	writes.wait()

	// a new machine: only the replica is left
	newDir := filepath.Join(t.TempDir(), "pb_data")
	if err := os.MkdirAll(newDir, 0o755); err != nil {
		t.Fatal(err)
	}
	restoreStarted := time.Now()
	runCmd(t, env.litestream, "restore", "-config", cfg, "-o", filepath.Join(newDir, "data.db"), db)
	restoreTook := time.Since(restoreStarted)
	restored := startSalon(t, newDir)

	acked := writes.all()
	present := restored.roomMessageIDs(t, room.Id)
	lost := missing(acked, present)
	sort.Slice(lost, func(i, j int) bool { return lost[i].At.Before(lost[j].At) })
	var window time.Duration
	if len(lost) > 0 {
		window = killed.Sub(lost[0].At)
	}
	rate := float64(len(writes.before(killed))) / killed.Sub(started).Seconds()
	t.Logf("%d writes acknowledged (%.0f/s), %d lost: the last %v before kill -9; restore took %v",
		len(acked), rate, len(lost), window.Round(time.Millisecond), restoreTook.Round(time.Millisecond))
	if len(acked) == 0 {
		t.Fatal("no write was acknowledged: the drill proved nothing")
	}
	if len(present) == 0 {
		t.Fatal("the restored database has none of the writes")
	}
	if window > replicationLagAllowed {
		t.Errorf("lost a write acknowledged %v before the kill (allowed: %v)", window, replicationLagAllowed)
	}
}
