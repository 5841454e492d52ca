package scaling

import (
	"context"
	"fmt"
	"net/url"
	"sync"
	"testing"
	"time"
)

// ack is a write the server acknowledged (answered 200): the client now
// relies on it.
type ack struct {
	ID string
	At time.Time // when the answer arrived
}

// ackLog records the acknowledged writes of members writing continuously.
type ackLog struct {
	mu     sync.Mutex
	acks   []ack
	failed int // requests not acknowledged (errors, non-200)
	wg     sync.WaitGroup
}

// writeContinuously makes each member post room messages one after the
// other until ctx ends; call wait to let them finish.
func writeContinuously(ctx context.Context, members []*client, room string) *ackLog {
	l := &ackLog{}
	for i, m := range members {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for seq := 0; ctx.Err() == nil; seq++ {
				var r record
				status, _, err := m.do("POST", "/api/collections/room_messages/records",
					map[string]any{"room": room, "body": fmt.Sprintf("writer %d message %d", i, seq)}, &r)
				at := time.Now()
				l.mu.Lock()
				if err == nil && status == 200 && r.Id != "" {
					l.acks = append(l.acks, ack{r.Id, at})
				} else {
					l.failed++
				}
				l.mu.Unlock()
			}
		}()
	}
	return l
}

func (l *ackLog) wait() { l.wg.Wait() }

// before returns the writes acknowledged before t.
func (l *ackLog) before(t time.Time) []ack {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []ack
	for _, a := range l.acks {
		if a.At.Before(t) {
			out = append(out, a)
		}
	}
	return out
}

func (l *ackLog) all() []ack { return l.before(time.Now().Add(time.Hour)) }

// roomMessageIDs lists every message of a room, as the operator sees them.
func (s *salon) roomMessageIDs(t testing.TB, room string) map[string]bool {
	t.Helper()
	ids := map[string]bool{}
	filter := url.QueryEscape(fmt.Sprintf("room='%s'", room))
	for page := 1; ; page++ {
		var list struct{ Items []record }
		s.Root.mustJSON(t, "GET", fmt.Sprintf(
			"/api/collections/room_messages/records?filter=%s&fields=id&perPage=1000&page=%d&skipTotal=1",
			filter, page), nil, &list, 200)
		for _, r := range list.Items {
			ids[r.Id] = true
		}
		if len(list.Items) < 1000 {
			return ids
		}
	}
}

// missing returns the acknowledged writes that are not in present.
func missing(acks []ack, present map[string]bool) []ack {
	var out []ack
	for _, a := range acks {
		if !present[a.ID] {
			out = append(out, a)
		}
	}
	return out
}
