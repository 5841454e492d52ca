package hooks

import (
	"fmt"

	"github.com/pocketbase/pocketbase/core"
)

// Notification is one in-app notice. Every feature sends them through
// Notify, so delivery (realtime, e-mail, preferences) lives in one place.
type Notification struct {
	Kind             string // e.g. "mention", "report", "follow_post"
	Title            string
	Body             string
	URL              string // where the client should take the member
	SourceCollection string
	SourceID         string
}

// Notify writes one notifications record per recipient, in one
// transaction. Empty and repeated ids are skipped. Members receive the
// records live through subscribe('notifications').
func Notify(app core.App, recipients []string, n Notification) error {
	if len(recipients) == 0 {
		return nil
	}
	collection, err := app.FindCachedCollectionByNameOrId("notifications")
	if err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	seen := make(map[string]bool, len(recipients))
	return app.RunInTransaction(func(tx core.App) error {
		for _, id := range recipients {
			if id == "" || seen[id] {
				continue
			}
			seen[id] = true
			r := core.NewRecord(collection)
			r.Set("user", id)
			r.Set("kind", n.Kind)
			r.Set("title", truncate(n.Title, 200))
			r.Set("body", truncate(n.Body, 2000))
			r.Set("url", n.URL)
			r.Set("source_collection", n.SourceCollection)
			r.Set("source_id", n.SourceID)
			if err := tx.Save(r); err != nil {
				return fmt.Errorf("notify %s: %w", id, err)
			}
		}
		return nil
	})
}

// truncate cuts s to at most max runes, so long user text never makes a
// notification fail validation.
func truncate(s string, max int) string {
	r := []rune(s)
	if len(r) <= max {
		return s
	}
	return string(r[:max-1]) + "…"
}
