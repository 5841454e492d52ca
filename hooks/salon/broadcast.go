package salon

import (
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
func bindSuperuserOnlyBroadcasts(app core.App) {
	narrow := &hook.Handler[*core.ModelEvent]{Func: narrowToSuperusers, Priority: -100}
	app.OnModelAfterCreateSuccess().Bind(narrow)
	app.OnModelAfterUpdateSuccess().Bind(narrow)
	app.OnModelDelete().Bind(narrow)
}

// brokerApp is the app as PocketBase's broadcast sees it: everything is
// the real app except the set of realtime clients.
type brokerApp struct {
	core.App
	broker *subscriptions.Broker
}

func (a *brokerApp) SubscriptionsBroker() *subscriptions.Broker { return a.broker }

func narrowToSuperusers(e *core.ModelEvent) error {
	rec, ok := e.Model.(*core.Record)
	if !ok || rec.Collection().ListRule != nil || rec.Collection().ViewRule != nil {
		return e.Next()
	}
	all := e.App.SubscriptionsBroker()
	if all.TotalClients() == 0 {
		return e.Next()
	}
	narrowed := subscriptions.NewBroker()
	for _, chunk := range all.ChunkedClients(500) {
		for _, c := range chunk {
			if auth, _ := c.Get(apis.RealtimeClientAuthKey).(*core.Record); auth != nil && auth.IsSuperuser() {
				narrowed.Register(c)
			}
		}
	}
	orig := e.App
	e.App = &brokerApp{App: orig, broker: narrowed}
	defer func() { e.App = orig }()
	return e.Next()
}
