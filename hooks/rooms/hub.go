package rooms

import (
	"sync"
	"time"

	"github.com/pocketbase/pocketbase/core"
)

// roomHub takes the room fan-out off the request path and keeps presence
// cheap. One worker per app delivers events in order (the sender's request
// returns once its message is saved). Presence changes are counted per
// person (several tabs are one presence) and sent in batches at most every
// presenceDelay per room, so a reconnect storm of N members costs N
// messages per batch rather than N×N.
type roomHub struct {
	jobs chan func()
	done chan struct{}

	outboxMu sync.Mutex // makes each client's roomOutbox once

	mu      sync.Mutex
	conns   map[string]map[string]int // room → person → connections
	pending map[string]*presenceBatch // room → changes not yet sent
}

type presenceBatch struct {
	joined map[string]*RoomPerson
	left   map[string]bool
}

// presenceDelay is how long presence changes gather before they are sent.
const presenceDelay = 300 * time.Millisecond

const roomHubKey = "salon.roomHub"

// hubOf returns app's hub, starting it on first use. Transaction apps share
// the store of their parent, hence the hub.
func hubOf(app core.App) *roomHub {
	return app.Store().GetOrSet(roomHubKey, func() any {
		h := &roomHub{
			jobs:    make(chan func(), 4096),
			done:    make(chan struct{}),
			conns:   map[string]map[string]int{},
			pending: map[string]*presenceBatch{},
		}
		go h.work()
		return h
	}).(*roomHub)
}

func (h *roomHub) work() {
	for {
		select {
		case job := <-h.jobs:
			job()
		case <-h.done:
			return
		}
	}
}

func (h *roomHub) stop() {
	select {
	case <-h.done:
	default:
		close(h.done)
	}
}

// run queues job for the worker; it waits when the queue is full rather
// than drop an event.
func (h *roomHub) run(job func()) {
	select {
	case h.jobs <- job:
	case <-h.done:
	}
}

// arrive counts a connection of person in room; the first one is
// announced.
func (h *roomHub) arrive(app core.App, roomID string, person *RoomPerson) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.conns[roomID] == nil {
		h.conns[roomID] = map[string]int{}
	}
	h.conns[roomID][person.ID]++
	if h.conns[roomID][person.ID] == 1 {
		b := h.batch(app, roomID)
		b.joined[person.ID] = person
		delete(b.left, person.ID)
	}
}

// depart uncounts a connection; the last one is announced.
func (h *roomHub) depart(app core.App, roomID, personID string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := h.conns[roomID][personID]
	if n == 0 {
		return
	}
	if n > 1 {
		h.conns[roomID][personID] = n - 1
		return
	}
	delete(h.conns[roomID], personID)
	if len(h.conns[roomID]) == 0 {
		delete(h.conns, roomID)
	}
	b := h.batch(app, roomID)
	if _, new := b.joined[personID]; new {
		delete(b.joined, personID) // came and went within one batch
	} else {
		b.left[personID] = true
	}
}

// batch returns room's pending presence changes, scheduling their sending;
// h.mu is held.
func (h *roomHub) batch(app core.App, roomID string) *presenceBatch {
	if b := h.pending[roomID]; b != nil {
		return b
	}
	b := &presenceBatch{joined: map[string]*RoomPerson{}, left: map[string]bool{}}
	h.pending[roomID] = b
	time.AfterFunc(presenceDelay, func() { h.flushPresence(app, roomID) })
	return b
}

func (h *roomHub) flushPresence(app core.App, roomID string) {
	h.mu.Lock()
	b := h.pending[roomID]
	delete(h.pending, roomID)
	h.mu.Unlock()
	if b == nil || len(b.joined)+len(b.left) == 0 {
		return
	}
	ev := roomEvent{Type: "presence", Joined: []*RoomPerson{}, Left: []string{}}
	for _, p := range b.joined {
		ev.Joined = append(ev.Joined, p)
	}
	for id := range b.left {
		ev.Left = append(ev.Left, id)
	}
	publishRoom(app, roomID, ev)
}
