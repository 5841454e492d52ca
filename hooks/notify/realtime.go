package notify

import (
	"strings"
	"sync"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/hook"
	"github.com/pocketbase/pocketbase/tools/subscriptions"
)

// PocketBase broadcasts each new, changed or deleted record to every
// realtime client subscribed to its collection, checking the collection's
// rule with one SQL query per client and record. For notifications that is
// an announcement to 10,000 members times every member online (measured:
// 1,000 notifications with 200 members online took 46 s instead of 1 s).
// Only the recipient (and superusers watching the dashboard) can pass the
// notifications rule, so before PocketBase's broadcast handler runs
// (priority -99) we hand it a broker holding just those clients, found in
// an index of the clients subscribed to notifications by who they are
// (walking every client for each notice cost an announcement with 500
// members online 500 walks of every connection). The broadcast itself
// (rule check, expand, fields, message format) stays PocketBase's own.
func bindNotificationRealtime(app core.App) {
	idx := &onlineIndex{byUser: map[string]map[string]subscriptions.Client{}, supers: map[string]subscriptions.Client{}, entry: map[string]string{}}
	app.Store().Set(onlineStoreKey, idx)
	app.OnRealtimeSubscribeRequest().BindFunc(func(e *core.RealtimeSubscribeRequestEvent) error {
		// indexed before PocketBase subscribes the client and answers, so a
		// notice the moment after reaches it; replaced once it has
		watches := watchesNotifications(e.App, e.Subscriptions)
		if watches {
			idx.add(e.Client, e.Auth)
		}
		if err := e.Next(); err != nil {
			return err
		}
		if !watches {
			idx.remove(e.Client)
		}
		return nil
	})
	app.OnRealtimeConnectRequest().BindFunc(func(e *core.RealtimeConnectRequestEvent) error {
		err := e.Next() // returns when the connection ends
		idx.remove(e.Client)
		return err
	})
	narrow := &hook.Handler[*core.ModelEvent]{Func: idx.narrow, Priority: -100}
	app.OnModelAfterCreateSuccess("notifications").Bind(narrow)
	app.OnModelAfterUpdateSuccess("notifications").Bind(narrow)
	app.OnModelDelete("notifications").Bind(narrow)
}

const onlineStoreKey = "notify.online"

// onlineIndex holds the realtime clients subscribed to notifications: the
// members' by their id, the superusers' apart (they see every notice).
type onlineIndex struct {
	mu     sync.Mutex
	byUser map[string]map[string]subscriptions.Client // users id → client id → client
	supers map[string]subscriptions.Client            // client id → client
	entry  map[string]string                          // client id → users id ("" for a superuser)
}

// watchesNotifications reports whether one of subs is a notifications
// topic (by the collection's name or id).
func watchesNotifications(app core.App, subs []string) bool {
	id := ""
	if c, err := app.FindCachedCollectionByNameOrId("notifications"); err == nil {
		id = c.Id
	}
	for _, sub := range subs {
		seg := sub
		if i := strings.IndexAny(sub, "/?"); i >= 0 {
			seg = sub[:i]
		}
		if seg == "notifications" || (id != "" && seg == id) {
			return true
		}
	}
	return false
}

func (x *onlineIndex) add(c subscriptions.Client, auth *core.Record) {
	if auth == nil || (!auth.IsSuperuser() && auth.Collection().Name != "users") {
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	x.removeLocked(c.Id())
	if auth.IsSuperuser() {
		x.supers[c.Id()] = c
		x.entry[c.Id()] = ""
		return
	}
	if x.byUser[auth.Id] == nil {
		x.byUser[auth.Id] = map[string]subscriptions.Client{}
	}
	x.byUser[auth.Id][c.Id()] = c
	x.entry[c.Id()] = auth.Id
}

func (x *onlineIndex) remove(c subscriptions.Client) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.removeLocked(c.Id())
}

func (x *onlineIndex) removeLocked(id string) {
	user, ok := x.entry[id]
	if !ok {
		return
	}
	delete(x.entry, id)
	if user == "" {
		delete(x.supers, id)
		return
	}
	delete(x.byUser[user], id)
	if len(x.byUser[user]) == 0 {
		delete(x.byUser, user)
	}
}

// candidates are the clients that may receive user's notice.
func (x *onlineIndex) candidates(user string) []subscriptions.Client {
	x.mu.Lock()
	defer x.mu.Unlock()
	cs := make([]subscriptions.Client, 0, len(x.byUser[user])+len(x.supers))
	for _, c := range x.byUser[user] {
		cs = append(cs, c)
	}
	for _, c := range x.supers {
		cs = append(cs, c)
	}
	return cs
}

// members is the set of members with a client subscribed to notifications.
func (x *onlineIndex) members() map[string]bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	online := make(map[string]bool, len(x.byUser))
	for id := range x.byUser {
		online[id] = true
	}
	return online
}

// recipientBroker is the app as PocketBase's broadcast sees it: everything
// is the real app except the set of realtime clients.
type recipientBroker struct {
	core.App
	broker *subscriptions.Broker
}

func (a *recipientBroker) SubscriptionsBroker() *subscriptions.Broker { return a.broker }

func (x *onlineIndex) narrow(e *core.ModelEvent) error {
	rec, ok := e.Model.(*core.Record)
	if !ok {
		return e.Next()
	}
	all := e.App.SubscriptionsBroker()
	if all.TotalClients() == 0 {
		return e.Next()
	}
	user := rec.GetString("user")
	narrowed := subscriptions.NewBroker()
	for _, c := range x.candidates(user) {
		if _, err := all.ClientById(c.Id()); err != nil {
			continue // its connection is ending
		}
		// the index is by the auth the client subscribed with; a
		// suspension or a password change has unset it since
		auth, _ := c.Get(apis.RealtimeClientAuthKey).(*core.Record)
		if auth != nil && (auth.IsSuperuser() || (auth.Id == user && auth.Collection().Name == "users")) {
			narrowed.Register(c)
		}
	}
	orig := e.App
	e.App = &recipientBroker{App: orig, broker: narrowed}
	defer func() { e.App = orig }()
	return e.Next()
}

// onlineMembers is the set of members subscribed to their notifications
// now (their notices are saved as records, for PocketBase's realtime event).
func onlineMembers(app core.App) map[string]bool {
	x, ok := app.Store().Get(onlineStoreKey).(*onlineIndex)
	if !ok {
		return map[string]bool{}
	}
	return x.members()
}
