// Command fanbench measures a chat room's fan-out with the server in a
// child process (the built binary) and the N subscribers in this one, so
// that the server's share is what is measured: one member posts messages
// into a room, one after another, each once the previous one reached every
// subscriber; N members are subscribed to the room's topic ("rooms/ID")
// over real SSE connections. It prints the sender's create round trip and
// the post → receipt delay over every (message, subscriber) pair.
//
//	go run ./scaling/fanbench -n 0,1000,5000 -messages 20
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"log"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pocketbase/pocketbase/tools/security"
	"golang.org/x/crypto/bcrypt"
	_ "modernc.org/sqlite"

	"salonbase/scaling/benchserver"
)

const password = "fan-bench-password-0123"

func main() {
	sizes := flag.String("n", "0,1000,5000", "room sizes (subscribers), comma-separated")
	messages := flag.Int("messages", 20, "messages posted per size")
	bin := flag.String("bin", "", "salonbase binary (default: built from the current directory)")
	flag.Parse()
	var ns []int
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			log.Fatalf("-n: %v", err)
		}
		ns = append(ns, n)
	}
	if err := run(ns, *messages, *bin); err != nil {
		log.Fatal(err)
	}
}

func run(sizes []int, messages int, bin string) error {
	srv, err := benchserver.Start("fanbench", bin, password)
	if err != nil {
		return err
	}
	defer srv.Stop()
	root, err := srv.Root(password)
	if err != nil {
		return err
	}
	ranks := map[string]string{}
	var list struct{ Items []struct{ Id, Name string } }
	if _, err := srv.Call(root, "GET", "/api/collections/ranks/records?perPage=100", nil, &list); err != nil {
		return err
	}
	for _, r := range list.Items {
		ranks[r.Name] = r.Id
	}
	maxN := slices.Max(sizes)
	emails, err := seedMembers(srv.DataDir(), maxN+1, ranks["Silver"], ranks["Gold"])
	if err != nil {
		return fmt.Errorf("seed members: %w", err)
	}
	tokens, err := login(srv, emails)
	if err != nil {
		return err
	}
	sender, members := tokens[0], tokens[1:]

	fmt.Printf("| subscribers | create p50 / p99 (ms) | delivery p50 / p99 (ms) | server CPU per message |\n|---:|---:|---:|---:|\n")
	for _, n := range sizes {
		var room struct{ Id string }
		if _, err := srv.Call(root, "POST", "/api/collections/rooms/records", map[string]any{
			"name": fmt.Sprintf("Fan-out %d", n), "min_rank": ranks["Bronze"]}, &room); err != nil {
			return err
		}
		if err := measure(srv, room.Id, sender, members[:n], messages); err != nil {
			return fmt.Errorf("n=%d: %w", n, err)
		}
	}
	return nil
}

// seedMembers writes n verified members straight into data.db with one
// cheap password hash (hashing n passwords at the server's cost would take
// minutes); the first is Gold (the sender), the others Silver.
func seedMembers(dataDir string, n int, silver, gold string) ([]string, error) {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dataDir, "data.db")+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		return nil, err
	}
	tx, err := db.Begin()
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	now := time.Now().UTC().Format("2006-01-02 15:04:05.000Z")
	emails := make([]string, n)
	for i := range emails {
		emails[i] = fmt.Sprintf("fan%d@example.com", i)
		rank := silver
		if i == 0 {
			rank = gold
		}
		_, err := tx.Exec(`INSERT INTO users (id, email, password, tokenKey, verified, name, rank, role, lang, created, updated)
			VALUES (?, ?, ?, ?, TRUE, ?, ?, 'member', 'en', ?, ?)`,
			security.RandomStringWithAlphabet(15, "abcdefghijklmnopqrstuvwxyz0123456789"), emails[i], string(hash),
			security.RandomString(50), fmt.Sprintf("Fan %d", i), rank, now, now)
		if err != nil {
			return nil, err
		}
	}
	return emails, tx.Commit()
}

func login(srv *benchserver.Server, emails []string) ([]string, error) {
	tokens := make([]string, len(emails))
	errs := make(chan error, len(emails))
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i, e := range emails {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			t, err := srv.Login("users", e, password)
			if err != nil {
				errs <- err
			}
			tokens[i] = t
		}()
	}
	wg.Wait()
	close(errs)
	return tokens, <-errs
}

func measure(srv *benchserver.Server, room, sender string, members []string, messages int) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	var (
		mu      sync.Mutex
		delays  []time.Duration
		arrived = make(chan struct{}, len(members)*2+1)
	)
	record := func(d time.Duration) {
		mu.Lock()
		delays = append(delays, d)
		mu.Unlock()
		arrived <- struct{}{}
	}
	sem := make(chan struct{}, 32)
	errs := make(chan error, len(members))
	var wg sync.WaitGroup
	for _, token := range members {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := benchserver.Subscribe(ctx, hc, srv.Base, token, "rooms/"+room, record); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	time.Sleep(time.Second) // presence batches of the joins go out first

	var creates []time.Duration
	cpu0, _ := benchserver.CPUTicks(srv.Pid)
	for i := 0; i < messages; i++ {
		sent := time.Now()
		if _, err := srv.Call(sender, "POST", "/api/collections/room_messages/records", map[string]any{
			"room": room, "body": "bench " + strconv.FormatInt(sent.UnixNano(), 10)}, nil); err != nil {
			return err
		}
		creates = append(creates, time.Since(sent))
		for range members {
			select {
			case <-arrived:
			case <-time.After(60 * time.Second):
				return fmt.Errorf("message %d: not every subscriber got it within 60 s", i)
			}
		}
	}
	cpu1, _ := benchserver.CPUTicks(srv.Pid)
	mu.Lock()
	defer mu.Unlock()
	fmt.Printf("| %d | %.1f / %.1f | %.1f / %.1f | %.1f ms |\n", len(members),
		ms(pct(creates, 50)), ms(pct(creates, 99)), ms(pct(delays, 50)), ms(pct(delays, 99)),
		float64(cpu1-cpu0)*10/float64(messages))
	return nil
}

func pct(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
