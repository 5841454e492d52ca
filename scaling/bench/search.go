package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log"
	mrand "math/rand"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/security"

	"salonbase/scaling/benchserver"
)

// The search rows: every query class of the room search
// (GET /api/salon/rooms/{id}/search) and of the site search
// (GET /api/salon/search) in one salon holding b.messages room messages in
// 10 rooms and b.posts forum posts in two categories (one Platinum-only, so
// the permission filter has work), as a Gold member, one request after
// another. Goal: p99 < 50 ms for each.

const (
	searchGoal     = 50 * time.Millisecond
	searchRooms    = 10
	searchRareWord = "ユニコーン" // ten messages in all, ten posts in all
	searchShort    = "会議"    // two characters: below the trigram size
)

func searchRows(b *bench) ([]line, error) {
	srv, err := b.start("bench-search")
	if err != nil {
		return nil, err
	}
	defer srv.Stop()
	s, err := seedSearch(b, srv)
	if err != nil {
		return nil, err
	}
	vocab := s.vocab
	type query struct{ what, path string }
	room := "/api/salon/rooms/" + s.room + "/search?q="
	site := "/api/salon/search?q="
	queries := []query{
		{"rare word (10 in all)", room + url.QueryEscape(searchRareWord)},
		{"medium-frequency word", room + url.QueryEscape(vocab[50])},
		{"most common word, relevance", room + url.QueryEscape(vocab[0])},
		{"two words", room + url.QueryEscape(vocab[3]+" "+vocab[20])},
		{"Japanese 2 characters " + searchShort, room + url.QueryEscape(searchShort)},
		{"most common word, newest", room + url.QueryEscape(vocab[0]) + "&sort=newest"},
		{"rare word (10 in all)", site + url.QueryEscape(searchRareWord)},
		{"medium-frequency word", site + url.QueryEscape(vocab[50])},
		{"most common word", site + url.QueryEscape(vocab[0])},
		{"two words", site + url.QueryEscape(vocab[3]+" "+vocab[20])},
		{"Japanese 2 characters " + searchShort, site + url.QueryEscape(searchShort)},
	}
	var lines []line
	for _, q := range queries {
		cpu0, _ := cpuTime(srv.Pid)
		lat, matches, err := measure(srv, s.token, q.path, b.requests)
		if err != nil {
			return nil, err
		}
		cpu1, _ := cpuTime(srv.Pid)
		// the server's CPU per request does not depend on how busy the machine is
		cpu := (cpu1 - cpu0) / time.Duration(b.requests+5)
		p50, p99 := percentile(lat, 50), percentile(lat, 99)
		where := "room search"
		if strings.HasPrefix(q.path, site) {
			where = "site search"
		}
		lines = append(lines, line{
			what:   fmt.Sprintf("%s over %s messages + %s posts: %s (%s)", where, count(b.messages), count(b.posts), q.what, matches),
			figure: fmt.Sprintf("p50 %s / p99 %s ms (server CPU %s ms per request)", ms(p50), ms(p99), ms(cpu)),
			goal:   "p99 < " + ms(searchGoal) + " ms",
			met:    p99 < searchGoal,
		})
		log.Printf("search: %s %s: p50 %s p99 %s ms, server CPU %s ms per request (load average %s)", where, q.what, ms(p50), ms(p99), ms(cpu), loadAverage())
	}
	return lines, nil
}

// measure sends n GETs of path one after another (after a few unmeasured
// ones) and returns their latencies and what the first answer says of the
// matches.
func measure(srv *benchserver.Server, token, path string, n int) ([]time.Duration, string, error) {
	get := func() ([]byte, error) {
		req, _ := http.NewRequest(http.MethodGet, srv.Base+path, nil)
		req.Header.Set("Authorization", token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		defer res.Body.Close()
		raw, err := io.ReadAll(res.Body)
		if err == nil && res.StatusCode != http.StatusOK {
			err = fmt.Errorf("GET %s: %d %.200s", path, res.StatusCode, raw)
		}
		return raw, err
	}
	raw, err := get()
	if err != nil {
		return nil, "", err
	}
	var answer struct {
		Items       []json.RawMessage
		TotalItems  *int
		TotalCapped bool
		HasMore     bool
	}
	if err := json.Unmarshal(raw, &answer); err != nil {
		return nil, "", err
	}
	if len(answer.Items) == 0 {
		return nil, "", fmt.Errorf("GET %s found nothing", path)
	}
	matches := fmt.Sprintf("%d on the first page", len(answer.Items))
	if answer.TotalItems != nil {
		matches = fmt.Sprintf("%d matches", *answer.TotalItems)
		if answer.TotalCapped {
			matches = fmt.Sprintf("≥%d matches", *answer.TotalItems)
		}
	}
	for range 4 {
		if _, err := get(); err != nil {
			return nil, "", err
		}
	}
	lat := make([]time.Duration, 0, n)
	for range n {
		t0 := time.Now()
		if _, err := get(); err != nil {
			return nil, "", err
		}
		lat = append(lat, time.Since(t0))
	}
	return lat, matches, nil
}

type searchSalon struct {
	token string   // the Gold member's
	room  string   // the room searched
	vocab []string // the words of the messages, most frequent first
}

// seedSearch makes the member, rooms and categories through the API, then
// writes the messages and posts straight into the server's database in one
// transaction each (the FTS triggers index them as they would any write).
func seedSearch(b *bench, srv *benchserver.Server) (*searchSalon, error) {
	root, err := srv.Root(password)
	if err != nil {
		return nil, err
	}
	ranks := map[string]string{}
	var list struct {
		Items []struct{ Id, Name string }
	}
	if _, err := srv.Call(root, "GET", "/api/collections/ranks/records?perPage=100", nil, &list); err != nil {
		return nil, err
	}
	for _, r := range list.Items {
		ranks[r.Name] = r.Id
	}
	var member struct{ Id string }
	if _, err := srv.Call(root, "POST", "/api/collections/users/records", map[string]any{
		"email": "reader@example.com", "password": password, "passwordConfirm": password, "name": "Reader",
		"verified": true, "rank": ranks["Gold"], "role": "member",
	}, &member); err != nil {
		return nil, err
	}
	token, err := srv.Login("users", "reader@example.com", password)
	if err != nil {
		return nil, err
	}
	var rooms []string
	for i := range searchRooms {
		values := map[string]any{"name": fmt.Sprintf("Room %d", i)}
		if i == searchRooms-1 {
			values["min_rank"] = ranks["Platinum"] // one the reader may not read
		}
		var r struct{ Id string }
		if _, err := srv.Call(root, "POST", "/api/collections/rooms/records", values, &r); err != nil {
			return nil, err
		}
		rooms = append(rooms, r.Id)
	}
	var cats []string
	for i, minRank := range []string{"", ranks["Platinum"]} {
		var c struct{ Id string }
		if _, err := srv.Call(root, "POST", "/api/collections/forum_categories/records",
			map[string]any{"name": fmt.Sprintf("Category %d", i), "min_rank": minRank}, &c); err != nil {
			return nil, err
		}
		cats = append(cats, c.Id)
	}

	db, err := core.DefaultDBConnect(filepath.Join(srv.DataDir(), "data.db"))
	if err != nil {
		return nil, err
	}
	defer db.Close()
	vocab := benchserver.Vocabulary(5000)
	began := time.Now()
	if err := seedMessages(db, b.messages, rooms, member.Id, vocab); err != nil {
		return nil, err
	}
	log.Printf("search: seeded %d room messages in %s", b.messages, time.Since(began).Round(time.Second))
	began = time.Now()
	if err := seedPosts(db, b.posts, cats, member.Id, vocab); err != nil {
		return nil, err
	}
	log.Printf("search: seeded %d forum posts in %s", b.posts, time.Since(began).Round(time.Second))
	return &searchSalon{token: token, room: rooms[0], vocab: vocab}, nil
}

// seedMessages inserts n messages (insertMessages) in one transaction.
func seedMessages(db *dbx.DB, n int, rooms []string, author string, vocab []string) error {
	return db.Transactional(func(tx *dbx.Tx) error {
		return withIndexesFilledOnce(tx, "room_messages", func() error { return insertMessages(tx, n, rooms, author, vocab) })
	})
}

// insertMessages inserts n messages round robin into rooms, created one
// second apart up to now; 1 % of them (all in rooms[0]) hold searchShort
// and ten in all (in rooms[0]) searchRareWord.
func insertMessages(tx *dbx.Tx, n int, rooms []string, author string, vocab []string) error {
	rng := mrand.New(mrand.NewSource(1))
	zipf := benchserver.NewZipf(rng, vocab)
	start := time.Now().Add(-time.Duration(n) * time.Second)
	rare := max(1, n/10)
	q := tx.NewQuery("INSERT INTO room_messages (id, room, author, author_name, body, created, updated)" +
		" VALUES ({:id}, {:room}, {:author}, 'Reader', {:body}, {:at}, {:at})").Prepare()
	defer q.Close()
	for i := range n {
		body := benchserver.ZipfText(rng, zipf, vocab)
		if i%100 == 10 {
			body += "明日の" + searchShort
		}
		if i%rare == 10%rare {
			body += searchRareWord
		}
		at := start.Add(time.Duration(i) * time.Second).UTC().Format("2006-01-02 15:04:05.000Z")
		if _, err := q.Bind(dbx.Params{"id": security.RandomStringWithAlphabet(15, "abcdefghijklmnopqrstuvwxyz0123456789"),
			"room": rooms[i%len(rooms)], "author": author, "body": body, "at": at}).Execute(); err != nil {
			return fmt.Errorf("message %d: %w", i, err)
		}
	}
	return nil
}

// seedPosts inserts n posts (insertPosts) in one transaction.
func seedPosts(db *dbx.DB, n int, cats []string, author string, vocab []string) error {
	return db.Transactional(func(tx *dbx.Tx) error {
		return withIndexesFilledOnce(tx, "forum_search_docs", func() error { return insertPosts(tx, n, cats, author, vocab) })
	})
}

// insertPosts inserts n posts in topics of 100 posts, the topics alternating
// between cats; ten posts in all hold searchRareWord, 1 % searchShort.
func insertPosts(tx *dbx.Tx, n int, cats []string, author string, vocab []string) error {
	rng := mrand.New(mrand.NewSource(3))
	zipf := benchserver.NewZipf(rng, vocab)
	start := time.Now().Add(-time.Duration(n) * time.Second)
	rare := max(1, n/10)
	id := func() string { return security.RandomStringWithAlphabet(15, "abcdefghijklmnopqrstuvwxyz0123456789") }
	topic := tx.NewQuery("INSERT INTO forum_topics (id, category, author, title, body, tags, pinned, last_post_at, created, updated)" +
		" VALUES ({:id}, {:cat}, {:author}, {:title}, {:body}, '[]', false, {:at}, {:at}, {:at})").Prepare()
	defer topic.Close()
	post := tx.NewQuery("INSERT INTO forum_posts (id, topic, author, body, created, updated)" +
		" VALUES ({:id}, {:topic}, {:author}, {:body}, {:at}, {:at})").Prepare()
	defer post.Close()
	var topicID string
	for i := range n {
		at := start.Add(time.Duration(i) * time.Second).UTC().Format("2006-01-02 15:04:05.000Z")
		if i%100 == 0 {
			topicID = id()
			if _, err := topic.Bind(dbx.Params{"id": topicID, "cat": cats[(i/100)%len(cats)], "author": author,
				"title": benchserver.ZipfText(rng, zipf, vocab), "body": benchserver.ZipfText(rng, zipf, vocab), "at": at}).Execute(); err != nil {
				return fmt.Errorf("topic %d: %w", i/100, err)
			}
		}
		body := benchserver.ZipfText(rng, zipf, vocab)
		if i%100 == 10 {
			body += "明日の" + searchShort
		}
		if i%rare == 10%rare {
			body += searchRareWord
		}
		if _, err := post.Bind(dbx.Params{"id": id(), "topic": topicID, "author": author, "body": body, "at": at}).Execute(); err != nil {
			return fmt.Errorf("post %d: %w", i, err)
		}
	}
	return nil
}

// count prints n briefly: 100k, 1M.
func count(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return fmt.Sprintf("%dM", n/1_000_000)
	case n >= 1000 && n%1000 == 0:
		return fmt.Sprintf("%dk", n/1000)
	}
	return fmt.Sprint(n)
}
