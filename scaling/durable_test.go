package scaling

import (
	"context"
	"fmt"
	"net/url"
	"sync"
	"testing"
	"time"
)

// TestKill9KeepsWorkPromisedByAnAnswer kills the server with SIGKILL right
// after it acknowledged writes that promise more work than the write
// itself: a capacity raise promises the waitlist's promotion, a forum reply
// the topic author's notice, a room message its mention's notice. After a
// restart on the same disk all of it is there: the server recorded the
// work with the acknowledgement and resumed it at start.
func TestKill9KeepsWorkPromisedByAnAnswer(t *testing.T) {
	t.Parallel()
	dir := newDataDir(t)
	salon := startSalon(t, dir)
	salon.settings(t, map[string]any{"rateLimits": map[string]any{"enabled": false}})

	// a topic whose author hears of every reply, a room where every
	// message mentions one member
	author, mentioned := salon.member(t), salon.member(t)
	mentioned.mustJSON(t, "PATCH", "/api/collections/users/records/"+mentioned.ID, map[string]any{"name": "Kiyoko Durable"}, nil, 200)
	var cat, topic, room record
	salon.Root.mustJSON(t, "POST", "/api/collections/forum_categories/records", map[string]any{"name": "Lounge"}, &cat, 200)
	author.mustJSON(t, "POST", "/api/collections/forum_topics/records", map[string]any{"category": cat.Id, "title": "Ask me", "body": "anything"}, &topic, 200)
	salon.Root.mustJSON(t, "POST", "/api/collections/rooms/records", map[string]any{"name": "Lobby"}, &room, 200)

	// events with one seat, one member going and the others waiting
	const nEvents, perEvent = 8, 5
	attendees := make([]*client, perEvent)
	for i := range attendees {
		attendees[i] = salon.member(t)
	}
	events := make([]string, nEvents)
	for i := range events {
		var ev record
		salon.Root.mustJSON(t, "POST", "/api/collections/events/records", map[string]any{
			"title": fmt.Sprintf("Meetup %d", i), "kind": "meetup", "published": true, "capacity": 1,
			"starts_at": time.Now().Add(72 * time.Hour).UTC().Format("2006-01-02 15:04:05.000Z"),
		}, &ev, 200)
		events[i] = ev.Id
		for _, a := range attendees {
			a.mustJSON(t, "POST", "/api/salon/events/"+ev.Id+"/rsvp", nil, nil, 200)
		}
	}

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var mu sync.Mutex
	var posts, messages, raised []string
	var wg sync.WaitGroup
	writers := []*client{salon.member(t), salon.member(t), salon.member(t), salon.member(t)}
	for i, w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := 0; ctx.Err() == nil; seq++ {
				var r record
				path, body := "/api/collections/forum_posts/records", map[string]any{"topic": topic.Id, "body": fmt.Sprintf("reply %d-%d", i, seq)}
				if seq%2 == 1 {
					path, body = "/api/collections/room_messages/records", map[string]any{"room": room.Id, "body": fmt.Sprintf("@Kiyoko Durable look %d-%d", i, seq)}
				}
				status, _, err := w.do("POST", path, body, &r)
				if err != nil || status != 200 {
					continue
				}
				mu.Lock()
				if seq%2 == 1 {
					messages = append(messages, r.Id)
				} else {
					posts = append(posts, r.Id)
				}
				mu.Unlock()
			}
		}()
	}
	// the operator raises the capacities while members write, and the
	// machine dies right after the last answer
	time.Sleep(500 * time.Millisecond)
	for _, id := range events {
		salon.Root.mustJSON(t, "PATCH", "/api/collections/events/records/"+id, map[string]any{"capacity": perEvent}, nil, 200)
		raised = append(raised, id)
	}
	salon.proc.kill9()
	stop()
	wg.Wait()

	restarted := startSalon(t, dir)
	t.Logf("acknowledged before kill -9: %d capacity raises, %d forum replies, %d room messages", len(raised), len(posts), len(messages))
	if len(posts) == 0 || len(messages) == 0 {
		t.Fatal("no write was acknowledged: the drill proved nothing")
	}

	// the resumed work runs right after the start; give it a moment
	var lost []string
	deadline := time.Now().Add(60 * time.Second)
	for {
		lost = lost[:0]
		for _, id := range raised {
			if n := restarted.count(t, "event_rsvps", fmt.Sprintf("event='%s' && status='going'", id)); n != perEvent {
				lost = append(lost, fmt.Sprintf("event %s: %d of %d seats taken while members wait", id, n, perEvent))
			}
		}
		for _, id := range posts {
			if restarted.count(t, "notifications", fmt.Sprintf("user='%s' && kind='reply' && source_id='%s'", author.ID, id)) != 1 {
				lost = append(lost, "reply notice of post "+id)
			}
		}
		for _, id := range messages {
			if restarted.count(t, "notifications", fmt.Sprintf("user='%s' && kind='mention' && source_id='%s'", mentioned.ID, id)) != 1 {
				lost = append(lost, "mention notice of message "+id)
			}
		}
		if len(lost) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if len(lost) > 0 {
		t.Errorf("%d promised results missing (or doubled) after kill -9 and restart; first: %v", len(lost), lost[:min(5, len(lost))])
	}
}

// count is the operator's count of records matching filter.
func (s *salon) count(t testing.TB, collection, filter string) int {
	t.Helper()
	var out struct{ TotalItems int }
	s.Root.mustJSON(t, "GET", fmt.Sprintf("/api/collections/%s/records?perPage=1&fields=id&filter=%s",
		collection, url.QueryEscape(filter)), nil, &out, 200)
	return out.TotalItems
}

// TestKill9RetriedWritesStoredOnce kills the server with SIGKILL while
// members post, and then lets each member retry every post whose answer it
// did not get, with the same client_id, as a client does after a timeout.
// Every post is then stored exactly once: those saved before the crash are
// answered with the first record instead of being stored again.
func TestKill9RetriedWritesStoredOnce(t *testing.T) {
	t.Parallel()
	dir := newDataDir(t)
	salon := startSalon(t, dir)
	salon.settings(t, map[string]any{"rateLimits": map[string]any{"enabled": false}})
	var room record
	salon.Root.mustJSON(t, "POST", "/api/collections/rooms/records", map[string]any{"name": "Lobby"}, &room, 200)
	writers := make([]*client, 12)
	for i := range writers {
		writers[i] = salon.member(t)
	}

	type send struct {
		who  int
		body map[string]any
	}
	var mu sync.Mutex
	var unanswered []send
	sent := 0
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var wg sync.WaitGroup
	for i, w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := 0; ctx.Err() == nil; seq++ {
				body := map[string]any{"room": room.Id, "body": fmt.Sprintf("writer %d post %d", i, seq),
					"client_id": fmt.Sprintf("w%d-%d", i, seq)}
				status, _, err := w.do("POST", "/api/collections/room_messages/records", body, nil)
				mu.Lock()
				sent++
				if err != nil || status != 200 {
					unanswered = append(unanswered, send{i, body})
				}
				mu.Unlock()
			}
		}()
	}
	time.Sleep(2 * time.Second)
	salon.proc.kill9()
	stop()
	wg.Wait()

	restarted := startSalon(t, dir)
	for i := range writers {
		writers[i].base = restarted.Base
	}
	for _, u := range unanswered {
		status, raw, err := writers[u.who].do("POST", "/api/collections/room_messages/records", u.body, nil)
		if err != nil || status != 200 {
			t.Fatalf("retry of %v: %d %v %s", u.body["body"], status, err, raw)
		}
	}

	copies := map[string]int{}
	stored := 0
	for page := 1; ; page++ {
		var list struct{ Items []record }
		restarted.Root.mustJSON(t, "GET", fmt.Sprintf("/api/collections/room_messages/records?perPage=1000&page=%d&skipTotal=1&sort=id&fields=id,body&filter=%s",
			page, url.QueryEscape(fmt.Sprintf("room='%s'", room.Id))), nil, &list, 200)
		for _, r := range list.Items {
			copies[r.Body]++
		}
		stored += len(list.Items)
		if len(list.Items) < 1000 {
			break
		}
	}
	var doubled []string
	for body, n := range copies {
		if n > 1 {
			doubled = append(doubled, fmt.Sprintf("%q ×%d", body, n))
		}
	}
	t.Logf("%d posts sent, %d unanswered at kill -9 and retried, %d stored", sent, len(unanswered), stored)
	if len(unanswered) == 0 {
		t.Log("no request was cut by the kill this run: the retries proved nothing new")
	}
	if len(doubled) > 0 {
		t.Errorf("retried posts stored twice: %v", doubled)
	}
	for _, u := range unanswered {
		if copies[u.body["body"].(string)] != 1 {
			t.Errorf("retried post %q stored %d times", u.body["body"], copies[u.body["body"].(string)])
		}
	}
}
