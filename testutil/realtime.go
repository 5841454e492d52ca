package testutil

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Event is one realtime message as a PocketBase SDK receives it.
type Event struct {
	Topic string
	Data  json.RawMessage
}

// Realtime is a realtime (SSE) client that speaks the same protocol as the
// PocketBase JS/Dart SDKs: connect, read PB_CONNECT, then POST the
// subscriptions with the member's token.
type Realtime struct {
	ClientID string
	Events   chan Event
	cancel   context.CancelFunc
}

// Subscribe connects to srv's realtime endpoint as token ("" for anonymous)
// and subscribes to topics, e.g. "dm_messages" or "rooms/ID".
func (s *Server) Subscribe(t testing.TB, token string, topics ...string) *Realtime {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/api/realtime", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatalf("realtime connect: %v", err)
	}
	rt := &Realtime{Events: make(chan Event, 256), cancel: cancel}
	t.Cleanup(rt.Close)

	connected := make(chan string, 1)
	go func() {
		defer res.Body.Close()
		defer close(rt.Events)
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 1<<20), 8<<20)
		var ev Event
		var data strings.Builder
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event:"):
				ev.Topic = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
			case strings.HasPrefix(line, "data:"):
				data.WriteString(strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " "))
			case line == "":
				if ev.Topic == "" {
					continue
				}
				ev.Data = json.RawMessage(data.String())
				if ev.Topic == "PB_CONNECT" {
					var c struct{ ClientId string }
					_ = json.Unmarshal(ev.Data, &c)
					connected <- c.ClientId
				} else {
					select {
					case rt.Events <- ev:
					default: // a test that stops reading must not block the server
					}
				}
				ev, data = Event{}, strings.Builder{}
			}
		}
	}()

	select {
	case rt.ClientID = <-connected:
	case <-time.After(5 * time.Second):
		t.Fatal("realtime: no PB_CONNECT within 5s")
	}

	status, body := s.Do(t, http.MethodPost, "/api/realtime", token, map[string]any{
		"clientId":      rt.ClientID,
		"subscriptions": topics,
	})
	if status != http.StatusNoContent {
		t.Fatalf("realtime subscribe %v: %d %s", topics, status, body)
	}
	return rt
}

// Next waits up to timeout for the next event; ok is false on timeout.
func (rt *Realtime) Next(timeout time.Duration) (Event, bool) {
	select {
	case ev, open := <-rt.Events:
		return ev, open
	case <-time.After(timeout):
		return Event{}, false
	}
}

// Close disconnects the client.
func (rt *Realtime) Close() { rt.cancel() }
