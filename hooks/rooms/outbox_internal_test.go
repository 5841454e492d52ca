package rooms

import (
	"sync"
	"testing"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/subscriptions"
)

// TestClientQueueIsMadeOnce: a client's first room event and its
// subscription request can ask for its queue at the same moment; there must
// be one queue (one writer, in order), and none after its connection ended.
func TestClientQueueIsMadeOnce(t *testing.T) {
	t.Parallel()
	app := core.NewBaseApp(core.BaseAppConfig{DataDir: t.TempDir()})
	h := hubOf(app)
	defer h.stop()

	for round := 0; round < 50; round++ {
		client := subscriptions.NewDefaultClient()
		const n = 16
		got := make([]*roomOutbox, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range got {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				got[i] = h.outboxOf(client)
			}()
		}
		close(start)
		wg.Wait()
		queues := map[*roomOutbox]bool{}
		for _, ob := range got {
			queues[ob] = true
		}
		if len(queues) != 1 {
			t.Fatalf("round %d: %d callers at once made %d queues for one client", round, n, len(queues))
		}

		// events arrive in the order they were queued
		for i := 0; i < 10; i++ {
			got[0].push(subscriptions.Message{Name: "rooms/x", Data: []byte{byte(i)}})
		}
		for i := 0; i < 10; i++ {
			if m := <-client.Channel(); m.Data[0] != byte(i) {
				t.Fatalf("round %d: event %d arrived as number %d", round, m.Data[0], i)
			}
		}
		h.closeOutbox(client)
	}

	// a connection that ended before its first event gets no queue writer
	client := subscriptions.NewDefaultClient()
	h.closeOutbox(client)
	if ob := h.outboxOf(client); !ob.closed {
		t.Fatal("a queue made after the connection ended is open")
	}
}
