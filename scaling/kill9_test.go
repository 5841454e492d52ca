package scaling

import (
	"context"
	"testing"
	"time"
)

// TestKill9KeepsAcknowledgedWrites kills the server with SIGKILL while
// members write and starts it again on the same disk: with WAL and
// synchronous=NORMAL (PocketBase's settings), a crash of the process loses
// no acknowledged write; only losing the machine (or power) can.
func TestKill9KeepsAcknowledgedWrites(t *testing.T) {
	t.Parallel()
	dir := newDataDir(t)
	salon := startSalon(t, dir)
	salon.settings(t, map[string]any{"rateLimits": map[string]any{"enabled": false}})
	var room record
	salon.Root.mustJSON(t, "POST", "/api/collections/rooms/records", map[string]any{"name": "Lobby"}, &room, 200)
	members := []*client{salon.member(t), salon.member(t), salon.member(t), salon.member(t)}

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	writes := writeContinuously(ctx, members, room.Id)
	time.Sleep(3 * time.Second)
	salon.proc.kill9()
	stop()
	writes.wait()

	restarted := startSalon(t, dir)
	acked := writes.all()
	lost := missing(acked, restarted.roomMessageIDs(t, room.Id))
	t.Logf("%d writes acknowledged, %d lost after kill -9 and restart on the same disk", len(acked), len(lost))
	if len(acked) == 0 {
		t.Fatal("no write was acknowledged: the drill proved nothing")
	}
	if len(lost) > 0 {
		t.Errorf("%d acknowledged writes lost by a process crash (first: %s)", len(lost), lost[0].ID)
	}
}
