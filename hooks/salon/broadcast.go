package salon

import (
	"sync"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/hook"
	"github.com/pocketbase/pocketbase/tools/subscriptions"
)

// PocketBase offers every record write to every realtime client: per
// client it builds the client's subscriptions for six topic prefixes, then
// checks the collection's rule for the matching ones. With 500 members
// online that is 3,000 map builds for each write of any collection: an
// announcement writes 10,000 e-mail outbox rows, updates them as they are
// sent, and queues jobs. A collection whose list and view rules are both
// unset (superusers only: the outbox, the jobs) can reach no one but a
// superuser, so before PocketBase's broadcast handler (priority -99, 99 for
// deletes) we hand it a broker holding just the superusers' clients. The
// broadcast itself stays PocketBase's own.
//
// Finding those clients by walking every client on every write cost more
// than the announcement's own writes (profiled: 4.1 s against 1.8 s with
// 500 members online), so they are remembered when they subscribe: a
// client's auth is set only by its subscription request (PocketBase allows
// a guest to become authenticated there, never another change), and is
// later only refreshed or unset, which the check at broadcast time sees.
func bindSuperuserOnlyBroadcasts(app core.App) {
	su := &superuserClients{clients: map[string]subscriptions.Client{}}
	app.OnRealtimeSubscribeRequest().BindFunc(func(e *core.RealtimeSubscribeRequestEvent) error {
		if err := e.Next(); err != nil {
			return err
		}
		if e.Auth != nil && e.Auth.IsSuperuser() {
			su.add(e.Client)
		}
		return nil
	})
	app.OnRealtimeConnectRequest().BindFunc(func(e *core.RealtimeConnectRequestEvent) error {
		err := e.Next() // returns when the connection ends
		su.remove(e.Client.Id())
		return err
	})
	narrow := &hook.Handler[*core.ModelEvent]{Func: su.narrow, Priority: -100}
	app.OnModelAfterCreateSuccess().Bind(narrow)
	app.OnModelAfterUpdateSuccess().Bind(narrow)
	app.OnModelDelete().Bind(narrow)
}

// superuserClients are the realtime clients that subscribed as a
// superuser, by client id.
type superuserClients struct {
	mu      sync.Mutex
	clients map[string]subscriptions.Client
}

func (s *superuserClients) add(c subscriptions.Client) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clients[c.Id()] = c
}

func (s *superuserClients) remove(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.clients, id)
}

// current returns the remembered clients still registered in broker and
// still authenticated as a superuser.
func (s *superuserClients) current(broker *subscriptions.Broker) []subscriptions.Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]subscriptions.Client, 0, len(s.clients))
	for id, c := range s.clients {
		if _, err := broker.ClientById(id); err != nil {
			delete(s.clients, id) // gone without its connect request ending here
			continue
		}
		if auth, _ := c.Get(apis.RealtimeClientAuthKey).(*core.Record); auth != nil && auth.IsSuperuser() {
			out = append(out, c)
		}
	}
	return out
}

// brokerApp is the app as PocketBase's broadcast sees it: everything is
// the real app except the set of realtime clients.
type brokerApp struct {
	core.App
	broker *subscriptions.Broker
}

func (a *brokerApp) SubscriptionsBroker() *subscriptions.Broker { return a.broker }

func (s *superuserClients) narrow(e *core.ModelEvent) error {
	rec, ok := e.Model.(*core.Record)
	if !ok || rec.Collection().ListRule != nil || rec.Collection().ViewRule != nil {
		return e.Next()
	}
	all := e.App.SubscriptionsBroker()
	if all.TotalClients() == 0 {
		return e.Next()
	}
	narrowed := subscriptions.NewBroker()
	for _, c := range s.current(all) {
		narrowed.Register(c)
	}
	orig := e.App
	e.App = &brokerApp{App: orig, broker: narrowed}
	defer func() { e.App = orig }()
	return e.Next()
}
