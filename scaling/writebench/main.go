// Command writebench compares the write throughput of our hooks with bare
// PocketBase: for DM sends, room posts and forum posts it creates records
// through the salon's collections (every hook, rule and guard of ours) and
// through a bare copy of each collection made in the same server (the same
// fields, indexes and API rules, none of our hooks), taking turns, with the
// same writers for the same time, in one run. The server is the built
// binary in a child process, the writers are in this one.
//
// A third copy, "bare + triggers", also has the collection's SQLite
// triggers (the search indexes and the forum's counters, with copies of
// the tables they write): the work the database does for the feature
// whoever writes, so ours / that is what our hooks cost on top of it.
//
//	go run ./scaling/writebench -writers 4 -for 5s -rounds 3
package main

import (
	"database/sql"
	"flag"
	"fmt"
	"log"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite"

	"salonbase/scaling/benchserver"
)

const password = "write-bench-password-0123"

func main() {
	writers := flag.Int("writers", 4, "members writing at once, one request after another each")
	each := flag.Duration("for", 5*time.Second, "time per turn")
	rounds := flag.Int("rounds", 3, "turns per collection and kind (ours, bare, ours, bare …)")
	bin := flag.String("bin", "", "salonbase binary (default: built from the current directory)")
	only := flag.String("only", "", "comma-separated kinds to measure (dm, room, forum; default all)")
	flag.Parse()
	if err := run(*writers, *each, *rounds, *bin, *only); err != nil {
		log.Fatal(err)
	}
}

// write is one kind of write: the salon's collection and the body a
// writer sends (i is the writer, k counts its writes).
type write struct {
	kind       string // as -only names it
	name       string
	collection string
	body       func(i, k int) map[string]any
}

func run(writers int, each time.Duration, rounds int, bin, only string) error {
	srv, err := benchserver.Start("writebench", bin, password)
	if err != nil {
		return err
	}
	defer srv.Stop()
	root, err := srv.Root(password)
	if err != nil {
		return err
	}
	var ranks struct{ Items []struct{ Id, Name string } }
	if _, err := srv.Call(root, "GET", "/api/collections/ranks/records?perPage=100", nil, &ranks); err != nil {
		return err
	}
	gold := ""
	for _, r := range ranks.Items {
		if r.Name == "Gold" {
			gold = r.Id
		}
	}
	// writers 0..n-1 write; member n receives the DMs
	ids := make([]string, writers+1)
	tokens := make([]string, writers+1)
	for i := range ids {
		email := fmt.Sprintf("writer%d@example.com", i)
		var rec struct{ Id string }
		if _, err := srv.Call(root, "POST", "/api/collections/users/records", map[string]any{
			"email": email, "password": password, "passwordConfirm": password, "name": fmt.Sprintf("Writer %d", i),
			"verified": true, "rank": gold,
		}, &rec); err != nil {
			return err
		}
		ids[i] = rec.Id
		if tokens[i], err = srv.Login("users", email, password); err != nil {
			return err
		}
	}
	var room, category, topic struct{ Id string }
	if _, err := srv.Call(root, "POST", "/api/collections/rooms/records", map[string]any{"name": "Write bench"}, &room); err != nil {
		return err
	}
	if _, err := srv.Call(root, "POST", "/api/collections/forum_categories/records", map[string]any{"name": "Write bench"}, &category); err != nil {
		return err
	}
	if _, err := srv.Call(tokens[0], "POST", "/api/collections/forum_topics/records", map[string]any{
		"category": category.Id, "title": "Write bench", "body": "The topic the bench posts in."}, &topic); err != nil {
		return err
	}
	writes := []write{
		{"dm", "DM send", "dm_messages", func(i, k int) map[string]any {
			return map[string]any{"recipient": ids[writers], "body": fmt.Sprintf("dm %d from %d", k, i)}
		}},
		{"room", "room post", "room_messages", func(i, k int) map[string]any {
			return map[string]any{"room": room.Id, "body": fmt.Sprintf("room post %d from %d", k, i)}
		}},
		{"forum", "forum post", "forum_posts", func(i, k int) map[string]any {
			return map[string]any{"topic": topic.Id, "body": fmt.Sprintf("forum post %d from %d", k, i)}
		}},
	}
	if only != "" {
		kinds := strings.Split(only, ",")
		writes = slices.DeleteFunc(writes, func(w write) bool { return !slices.Contains(kinds, w.kind) })
		if len(writes) == 0 {
			return fmt.Errorf("-only %q: no such kind (dm, room, forum)", only)
		}
	}
	triggered := map[string]bool{} // collections with triggers copied
	for _, w := range writes {
		if err := bareCopy(srv, root, w.collection, "bare_"+w.collection); err != nil {
			return err
		}
		if err := bareCopy(srv, root, w.collection, "bare_trig_"+w.collection); err != nil {
			return err
		}
		n, err := copyTriggers(srv.DataDir(), w.collection, "bare_trig_")
		if err != nil {
			return fmt.Errorf("triggers of %s: %w", w.collection, err)
		}
		triggered[w.collection] = n > 0
	}
	// every copy is made before the first write: a forum post of ours
	// right after this process had changed the schema once failed with
	// "no such table: forum_posts" (not understood yet)
	for _, w := range writes {
		// one write each first: a refusal stops the bench here, with its reason
		for i := range writers {
			if _, err := srv.Call(tokens[i], "POST", "/api/collections/"+w.collection+"/records", w.body(i, -1), nil); err != nil {
				var logs struct {
					Items []struct{ Data map[string]any }
				}
				time.Sleep(4 * time.Second) // the server writes its log in batches
				srv.Call(root, "GET", "/api/logs?perPage=3&sort=-created", nil, &logs)
				return fmt.Errorf("%s through our hooks: %w (server log: %v)", w.name, err, logs.Items)
			}
			for _, prefix := range []string{"bare_", "bare_trig_"} {
				if _, err := srv.Call(tokens[i], "POST", "/api/collections/"+prefix+w.collection+"/records", bareBody(w.body(i, -1), ids[i]), nil); err != nil {
					return fmt.Errorf("%s to the copy %s: %w", w.name, prefix+w.collection, err)
				}
			}
		}
	}

	fmt.Printf("%d writers, %d turns of %v each per side\n\n", writers, rounds, each)
	fmt.Printf("| write | ours (writes/s) | bare PocketBase (writes/s) | ours / bare | bare + triggers (writes/s) | ours / bare + triggers |\n|---|---:|---:|---:|---:|---:|\n")
	for _, w := range writes {
		var ours, bare, trig int64
		for range rounds {
			n, err := hammer(srv, tokens[:writers], "/api/collections/"+w.collection+"/records", each, w.body, nil)
			if err != nil {
				return fmt.Errorf("%s through our hooks: %w", w.name, err)
			}
			ours += n
			n, err = hammer(srv, tokens[:writers], "/api/collections/bare_"+w.collection+"/records", each, w.body, ids)
			if err != nil {
				return fmt.Errorf("%s to the bare copy: %w", w.name, err)
			}
			bare += n
			if triggered[w.collection] {
				n, err = hammer(srv, tokens[:writers], "/api/collections/bare_trig_"+w.collection+"/records", each, w.body, ids)
				if err != nil {
					return fmt.Errorf("%s to the bare copy with triggers: %w", w.name, err)
				}
				trig += n
			}
		}
		secs := each.Seconds() * float64(rounds)
		fmt.Printf("| %s | %.0f | %.0f | %.2f× |", w.name, float64(ours)/secs, float64(bare)/secs, float64(ours)/float64(bare))
		if triggered[w.collection] {
			fmt.Printf(" %.0f | %.2f× |\n", float64(trig)/secs, float64(ours)/float64(trig))
		} else {
			fmt.Printf(" (no triggers) | |\n")
		}
	}
	return nil
}

// hammer has each token write to path, one request after another, for d,
// and counts the writes that succeeded. authors, when given, are put in
// the bodies (the bare copies).
func hammer(srv *benchserver.Server, tokens []string, path string, d time.Duration, body func(i, k int) map[string]any, authors []string) (int64, error) {
	var (
		n        atomic.Int64
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	end := time.Now().Add(d)
	for i, token := range tokens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; time.Now().Before(end); k++ {
				b := body(i, k)
				if authors != nil {
					b = bareBody(b, authors[i])
				}
				if _, err := srv.Call(token, "POST", path, b, nil); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	return n.Load(), firstErr
}

// bareBody is b with the author the salon's hooks would have set.
func bareBody(b map[string]any, author string) map[string]any {
	out := map[string]any{"author": author, "sender": author}
	for k, v := range b {
		out[k] = v
	}
	return out
}

var indexName = regexp.MustCompile("(?i)(INDEX\\s+(?:IF NOT EXISTS\\s+)?`?)([A-Za-z0-9_]+)")

// bareCopy makes the collection dst: collection name's fields, indexes
// and rules.
func bareCopy(srv *benchserver.Server, root, name, dst string) error {
	var c map[string]any
	if _, err := srv.Call(root, "GET", "/api/collections/"+name, nil, &c); err != nil {
		return err
	}
	fields, _ := c["fields"].([]any)
	for _, f := range fields {
		if m, ok := f.(map[string]any); ok {
			delete(m, "id")
		}
	}
	var indexes []string
	raw, _ := c["indexes"].([]any)
	for _, x := range raw {
		s, _ := x.(string)
		s = indexName.ReplaceAllString(s, "${1}"+strings.TrimSuffix(dst, name)+"${2}")
		s = strings.ReplaceAll(s, "`"+name+"`", "`"+dst+"`")
		indexes = append(indexes, s)
	}
	body := map[string]any{"name": dst, "type": "base", "fields": fields, "indexes": indexes}
	for _, r := range []string{"listRule", "viewRule", "createRule", "updateRule", "deleteRule"} {
		body[r] = c[r]
	}
	if _, err := srv.Call(root, "POST", "/api/collections", body, nil); err != nil {
		return fmt.Errorf("bare copy of %s: %w", name, err)
	}
	return nil
}

// writtenTable is a table a trigger's statement writes.
var writtenTable = regexp.MustCompile(`(?i)\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+["\x60]?([A-Za-z0-9_]+)`)

// copyTriggers gives prefix+name, a copy of collection name made by
// bareCopy, the triggers of name, and copies of the tables they write that
// are not collections (search indexes), with their own triggers, indexes
// and so on down. Writes to collections (a topic's counters) stay as they
// are. It returns how many triggers it made. It writes data.db in dataDir
// while the server runs: SQLite takes turns, and the server prepares its
// statements again after the schema change.
func copyTriggers(dataDir, name, prefix string) (int, error) {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dataDir, "data.db")+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)")
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var collections []string
	rows, err := db.Query("SELECT name FROM _collections")
	if err != nil {
		return 0, err
	}
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			rows.Close()
			return 0, err
		}
		collections = append(collections, c)
	}
	rows.Close()

	type object struct{ kind, name, sql string }
	var objects []object // triggers and the derived tables, in creation order
	renamed := []string{name}
	for queue := []string{name}; len(queue) > 0; queue = queue[1:] {
		table := queue[0]
		if table != name {
			var ddl string
			if err := db.QueryRow("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", table).Scan(&ddl); err != nil {
				return 0, fmt.Errorf("table %s: %w", table, err)
			}
			objects = append(objects, object{"table", table, ddl})
			idx, err := db.Query("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL", table)
			if err != nil {
				return 0, err
			}
			for idx.Next() {
				var o object
				o.kind = "index"
				if err := idx.Scan(&o.name, &o.sql); err != nil {
					idx.Close()
					return 0, err
				}
				objects = append(objects, o)
			}
			idx.Close()
		}
		trg, err := db.Query("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?", table)
		if err != nil {
			return 0, err
		}
		for trg.Next() {
			o := object{kind: "trigger"}
			if err := trg.Scan(&o.name, &o.sql); err != nil {
				trg.Close()
				return 0, err
			}
			objects = append(objects, o)
			body := o.sql[strings.Index(strings.ToUpper(o.sql), "BEGIN")+1:] // past AFTER UPDATE OF … ON …
			for _, m := range writtenTable.FindAllStringSubmatch(body, -1) {
				t := m[1]
				if !slices.Contains(collections, t) && !slices.Contains(renamed, t) {
					renamed = append(renamed, t)
					queue = append(queue, t)
				}
			}
		}
		trg.Close()
	}
	// tables before their indexes and triggers
	order := map[string]int{"table": 0, "index": 1, "trigger": 2}
	slices.SortStableFunc(objects, func(a, b object) int { return order[a.kind] - order[b.kind] })
	// longest first, so a name is never replaced inside a longer one
	slices.SortFunc(renamed, func(a, b string) int { return len(b) - len(a) })
	words := regexp.MustCompile(`\b(` + strings.Join(renamed, "|") + `)\b`)
	triggers := 0
	for _, o := range objects {
		ddl := words.ReplaceAllString(o.sql, prefix+"$1")
		if o.kind != "table" {
			// the object's own name: the first mention after CREATE … (an
			// index or trigger is not in renamed)
			ddl = strings.Replace(ddl, o.name, prefix+o.name, 1)
		}
		if _, err := db.Exec(ddl); err != nil {
			return triggers, fmt.Errorf("%s %s: %w\n%s", o.kind, o.name, err, ddl)
		}
		if o.kind == "trigger" {
			triggers++
		}
	}
	return triggers, nil
}
