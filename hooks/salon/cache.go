package salon

import (
	"sync"
	"time"

	"github.com/pocketbase/pocketbase/core"
)

// The salon's configuration (salon_settings, the ranks, the mail
// templates) is read by nearly every write: a DM reads the settings twice
// and up to five ranks. It changes when an operator edits it, so it is
// kept in memory and forgotten whenever one of those collections' records
// is saved or deleted (after the commit), when a collection's schema
// changes and when the app starts serving (after the migrations). Writes
// that skip the record hooks call ForgetConfig. An entry also expires
// after configTTL, so a change made by another process on the same data
// dir (a command run beside the server) applies within that time.

// configTTL bounds how long a value read before another process's change
// may be used.
const configTTL = 2 * time.Second

// configCollections are the collections whose changes clear the cache.
var configCollections = []string{"salon_settings", "ranks", "mail_templates"}

const configStoreKey = "salon.config"

type configEntry struct {
	value any
	at    time.Time
}

// configCache is one app's cache; gen counts the changes, so a value read
// while a change committed is not kept.
type configCache struct {
	mu      sync.Mutex
	gen     uint64
	entries map[string]configEntry
}

func bindConfigCache(app core.App) {
	c := &configCache{entries: map[string]configEntry{}}
	app.Store().Set(configStoreKey, c)
	forget := func(e *core.ModelEvent) error {
		c.forget()
		return e.Next()
	}
	app.OnModelAfterCreateSuccess(configCollections...).BindFunc(forget)
	app.OnModelAfterUpdateSuccess(configCollections...).BindFunc(forget)
	app.OnModelAfterDeleteSuccess(configCollections...).BindFunc(forget)
	app.OnCollectionAfterUpdateSuccess().BindFunc(func(e *core.CollectionEvent) error {
		c.forget()
		return e.Next()
	})
	app.OnServe().BindFunc(func(e *core.ServeEvent) error {
		c.forget()
		return e.Next()
	})
}

// ForgetConfig drops the cached configuration of app (after a write to
// salon_settings, ranks or mail_templates that bypassed the record hooks).
func ForgetConfig(app core.App) {
	if c, ok := app.Store().Get(configStoreKey).(*configCache); ok {
		c.forget()
	}
}

func (c *configCache) forget() {
	c.mu.Lock()
	c.gen++
	clear(c.entries)
	c.mu.Unlock()
}

// CachedConfig returns the value under key, loading it with load when it
// is missing or expired. load must read only the collections listed in
// configCollections, and the value must not be changed by its users. Inside a transaction a missing value is read but
// not kept: the transaction may see changes that are not committed.
func CachedConfig[T any](app core.App, key string, load func() (T, error)) (T, error) {
	c, ok := app.Store().Get(configStoreKey).(*configCache)
	if !ok {
		return load() // the kernel is not bound (a bare app): read afresh
	}
	c.mu.Lock()
	e, found := c.entries[key]
	gen := c.gen
	c.mu.Unlock()
	if found && time.Since(e.at) < configTTL {
		return e.value.(T), nil
	}
	started := time.Now()
	v, err := load()
	if err != nil || app.IsTransactional() {
		return v, err
	}
	c.mu.Lock()
	if c.gen == gen {
		c.entries[key] = configEntry{value: v, at: started}
	}
	c.mu.Unlock()
	return v, nil
}

// RankInfo is what the rules need of one rank.
type RankInfo struct {
	Level int
	Name  string
}

// Rank returns the level and name of the rank id (cached, see above).
func Rank(app core.App, id string) (RankInfo, error) {
	return CachedConfig(app, "rank/"+id, func() (RankInfo, error) {
		r, err := app.FindRecordById("ranks", id)
		if err != nil {
			return RankInfo{}, err
		}
		return RankInfo{Level: r.GetInt("level"), Name: r.GetString("name")}, nil
	})
}
