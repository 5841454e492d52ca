package salon

import (
	"strings"
	"sync"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/hook"
	"github.com/pocketbase/pocketbase/tools/subscriptions"
)

// PocketBase offers every record write to every realtime client: per
// client it builds the client's subscriptions for six topic prefixes
// (the collection's name or id, "/*", "/RECORD_ID"), then checks the
// collection's rule for the matching ones. That walk is on the writer's
// request: with 5,000 members in a room, each message's create waited for
// 30,000 subscription lookups, and with 500 members online an
// announcement's 10,000 e-mail outbox rows paid 3,000 each.
//
// So the clients are indexed by the collections their topics name, when
// they subscribe (PocketBase replaces a client's whole subscription set on
// each subscription request, and nothing else subscribes clients here),
// and before PocketBase's broadcast handlers (priority -99; 99 for the
// delete's dry run) we hand them a broker holding just the clients
// subscribed to the written collection: the only ones the walk could have
// matched. For a collection whose list and view rules are both unset (the
// outbox, the jobs) that is narrowed further to superusers. The broadcast
// itself (rules, expand, fields, message format) stays PocketBase's own.
func bindIndexedBroadcasts(app core.App) {
	idx := &subscriberIndex{byTopic: map[string]map[string]subscriptions.Client{}, topics: map[string][]string{}}
	app.OnRealtimeSubscribeRequest().BindFunc(func(e *core.RealtimeSubscribeRequestEvent) error {
		// the new topics are indexed before PocketBase subscribes the client
		// and answers: a write the moment after must find it (a client
		// indexed for a topic it no longer has costs a lookup, nothing more)
		idx.add(e.Client, e.Subscriptions)
		if err := e.Next(); err != nil {
			return err
		}
		idx.set(e.Client, e.Subscriptions)
		return nil
	})
	app.OnRealtimeConnectRequest().BindFunc(func(e *core.RealtimeConnectRequestEvent) error {
		err := e.Next() // returns when the connection ends
		idx.set(e.Client, nil)
		return err
	})
	// PocketBase's handlers: -99 after create, update and delete, registered
	// when the server starts (after ours, so ours at the same priority runs
	// just before them, and after core's record hooks); 99 for the delete's
	// dry run. The handler one step later gives the real app back to the
	// handlers after PocketBase's, so that only the broadcast sees the
	// narrowed broker (our own hooks, such as the rooms' fan-out, walk
	// every client).
	for _, h := range []*hook.TaggedHook[*core.ModelEvent]{app.OnModelAfterCreateSuccess(), app.OnModelAfterUpdateSuccess(), app.OnModelAfterDeleteSuccess()} {
		h.Bind(&hook.Handler[*core.ModelEvent]{Func: idx.narrow, Priority: -99})
		h.Bind(&hook.Handler[*core.ModelEvent]{Func: unnarrow, Priority: -98})
	}
	app.OnModelDelete().Bind(&hook.Handler[*core.ModelEvent]{Func: idx.narrow, Priority: 98})
	app.OnModelDelete().Bind(&hook.Handler[*core.ModelEvent]{Func: unnarrow, Priority: 100})
}

// subscriberIndex holds the realtime clients by the first segment of their
// topics ("notifications/*?options=…" → "notifications").
type subscriberIndex struct {
	mu      sync.Mutex
	byTopic map[string]map[string]subscriptions.Client // segment → client id → client
	topics  map[string][]string                        // client id → its segments
}

func topicSegment(sub string) string {
	if i := strings.IndexAny(sub, "/?"); i >= 0 {
		return sub[:i]
	}
	return sub
}

// add indexes client for subs too, keeping its other entries.
func (x *subscriberIndex) add(c subscriptions.Client, subs []string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.addLocked(c, subs)
}

func (x *subscriberIndex) addLocked(c subscriptions.Client, subs []string) {
	for _, sub := range subs {
		seg := topicSegment(sub)
		if x.byTopic[seg] == nil {
			x.byTopic[seg] = map[string]subscriptions.Client{}
		}
		if _, dup := x.byTopic[seg][c.Id()]; !dup {
			x.byTopic[seg][c.Id()] = c
			x.topics[c.Id()] = append(x.topics[c.Id()], seg)
		}
	}
}

// set replaces client's entries with those of subs (none: forgotten).
func (x *subscriberIndex) set(c subscriptions.Client, subs []string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, seg := range x.topics[c.Id()] {
		delete(x.byTopic[seg], c.Id())
		if len(x.byTopic[seg]) == 0 {
			delete(x.byTopic, seg)
		}
	}
	delete(x.topics, c.Id())
	x.addLocked(c, subs)
}

// subscribers is a broker of the clients of all subscribed to collection
// (by name or id), superusers only when onlySuperusers.
func (x *subscriberIndex) subscribers(all *subscriptions.Broker, collection *core.Collection, onlySuperusers bool) *subscriptions.Broker {
	x.mu.Lock()
	var cs []subscriptions.Client
	for _, seg := range []string{collection.Name, collection.Id} {
		for _, c := range x.byTopic[seg] {
			cs = append(cs, c)
		}
	}
	x.mu.Unlock()
	narrowed := subscriptions.NewBroker()
	for _, c := range cs {
		if _, err := all.ClientById(c.Id()); err != nil {
			continue // its connection is ending
		}
		if onlySuperusers {
			if auth, _ := c.Get(apis.RealtimeClientAuthKey).(*core.Record); auth == nil || !auth.IsSuperuser() {
				continue
			}
		}
		narrowed.Register(c)
	}
	return narrowed
}

// brokerApp is the app as PocketBase's broadcast sees it: everything is
// the real app except the set of realtime clients.
type brokerApp struct {
	core.App
	broker *subscriptions.Broker
}

func (a *brokerApp) SubscriptionsBroker() *subscriptions.Broker { return a.broker }

func (x *subscriberIndex) narrow(e *core.ModelEvent) error {
	rec, ok := e.Model.(*core.Record)
	if !ok || rec.Collection() == nil {
		return e.Next()
	}
	all := realApp(e.App).SubscriptionsBroker()
	if all.TotalClients() == 0 {
		return e.Next()
	}
	c := rec.Collection()
	orig := e.App
	e.App = &brokerApp{App: orig, broker: x.subscribers(all, c, c.ListRule == nil && c.ViewRule == nil)}
	defer func() { e.App = orig }()
	return e.Next()
}

// unnarrow undoes narrow for the handlers after PocketBase's broadcast.
func unnarrow(e *core.ModelEvent) error {
	b, ok := e.App.(*brokerApp)
	if !ok {
		return e.Next()
	}
	e.App = b.App
	defer func() { e.App = b }()
	return e.Next()
}

// realApp is app without our broker wrapper (a cascade delete runs its
// hooks with the app of the delete that caused it).
func realApp(app core.App) core.App {
	for {
		b, ok := app.(*brokerApp)
		if !ok {
			return app
		}
		app = b.App
	}
}
