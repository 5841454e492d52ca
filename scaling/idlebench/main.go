// Command idlebench measures the memory and idle CPU of one salonbase server
// holding N idle realtime (SSE) clients, the way members' open browser tabs
// hold them. The server is the built binary in a child process; the clients
// live in this process, so /proc figures of the child are the server's own.
// Then it restarts the server (SIGTERM, start again on the same data) and
// measures how long the clients take to reconnect and subscribe again, as
// the SDKs do, and whether a DM sent while they reconnect reaches every
// client of its recipient (live, or in the list the client reloads after
// reconnecting, as the web client does).
//
//	go run ./scaling/idlebench -n 10000
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"salonbase/scaling/benchserver"
)

const password = "idle-bench-password-0123"

func main() {
	n := flag.Int("n", 10000, "idle realtime clients")
	members := flag.Int("members", 100, "members the clients log in as (round robin)")
	settle := flag.Duration("settle", 15*time.Second, "idle time measured after the clients connect")
	restart := flag.Bool("restart", true, "restart the server and measure the reconnection")
	flag.Parse()
	if err := run(*n, *members, *settle, *restart); err != nil {
		log.Fatal(err)
	}
}

func run(n, members int, settle time.Duration, restart bool) error {
	srv, err := benchserver.Start("idlebench", "", password)
	if err != nil {
		return err
	}
	defer srv.Stop()
	pid := srv.Pid

	root, err := srv.Root(password)
	if err != nil {
		return err
	}
	tokens := make([]string, members)
	ids := make([]string, members)
	for i := range tokens {
		email := fmt.Sprintf("idle%d@example.com", i)
		var rec struct{ Id string }
		// made by the superuser: an anonymous signup must confirm its address first
		if _, err := srv.Call(root, "POST", "/api/collections/users/records", map[string]any{
			"email": email, "password": password, "passwordConfirm": password, "name": fmt.Sprintf("Idle %d", i), "verified": true,
		}, &rec); err != nil {
			return err
		}
		if tokens[i], err = srv.Login("users", email, password); err != nil {
			return err
		}
		ids[i] = rec.Id
	}

	rssBefore, _ := benchserver.Status(pid, "VmRSS:")
	fmt.Printf("server RSS with 0 clients: %.1f MiB (%d members)\n", benchserver.MiB(rssBefore), members)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	transport := &http.Transport{MaxIdleConnsPerHost: 64}
	hc := &http.Client{Transport: transport}
	st := &clientStats{}
	started := time.Now()
	sem := make(chan struct{}, 32)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			c := &client{srv: srv, hc: hc, token: tokens[i%members], stats: st, recipient: i%members == 0}
			c.run(ctx, func() { <-sem }, i)
		}()
	}
	for i := 0; i < cap(sem); i++ {
		sem <- struct{}{} // every client connected (or failed)
	}
	connectTook := time.Since(started)
	fmt.Printf("%d clients connected and subscribed in %v (%d failed)\n", n, connectTook.Round(time.Millisecond), int64(n)-st.subscribed.Load())

	cpu0, _ := cpuTicks(pid)
	time.Sleep(settle)
	cpu1, _ := cpuTicks(pid)
	rssIdle, _ := benchserver.Status(pid, "VmRSS:")
	hz := 100.0 // USER_HZ on Linux
	cpuPct := float64(cpu1-cpu0) / hz / settle.Seconds() * 100
	fmt.Printf("server RSS with %d idle clients: %.1f MiB (+%.1f MiB, %.1f KiB per client); idle CPU %.1f %% of one core over %v\n",
		n, benchserver.MiB(rssIdle), benchserver.MiB(rssIdle-rssBefore), float64(rssIdle-rssBefore)/1024/float64(n), cpuPct, settle)

	// the connections are live: one DM to member 0 reaches each of its clients
	if err := sendDM(srv, tokens[1], ids[0], "are you there"); err != nil {
		return err
	}
	// each client of the recipient (member 0) and of the sender (member 1)
	// gets the new message
	want := int64(clientsOf(0, n, members) + clientsOf(1, n, members))
	deadline := time.Now().Add(30 * time.Second)
	for st.dmEvents.Load() < want && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	fmt.Printf("a DM from member 1 to member 0 reached %d of their %d connected clients\n", st.dmEvents.Load(), want)

	if restart {
		if err := measureRestart(srv, st, n, tokens[1], ids[0], clientsOf(0, n, members)); err != nil {
			return err
		}
	}
	cancel()
	wg.Wait()
	return nil
}

func sendDM(srv *benchserver.Server, token, to, body string) error {
	if _, err := srv.Call(token, "POST", "/api/collections/dm_messages/records",
		map[string]any{"recipient": to, "subject": "ping", "body": body}, nil); err != nil {
		return fmt.Errorf("send DM: %w", err)
	}
	return nil
}

// measureRestart restarts the server, sends member 0 a DM as soon as it
// answers again and waits until every client has subscribed again and
// each of member 0's clients has the DM.
func measureRestart(srv *benchserver.Server, st *clientStats, n int, sender, recipient string, recipientClients int) error {
	before := st.subscribed.Load()
	st.marker.Store("after the restart")
	stopped := time.Now()
	if err := srv.Restart(); err != nil {
		return fmt.Errorf("restart: %w", err)
	}
	up := time.Now()
	fmt.Printf("server stopped and started again in %v\n", up.Sub(stopped).Round(time.Millisecond))
	// the sender's client retries, as a member's would, while the server
	// is busy taking the reconnections back
	for try := 0; ; try++ {
		err := sendDM(srv, sender, recipient, "after the restart")
		if err == nil {
			break
		}
		if try == 100 {
			return err
		}
		time.Sleep(200 * time.Millisecond)
	}
	sent := time.Since(up)
	deadline := time.Now().Add(60 * time.Second)
	var all time.Duration
	for time.Now().Before(deadline) {
		if all == 0 && st.subscribed.Load()-before >= int64(n) {
			// the last subscription's time: the DM's send may have waited
			// behind them
			all = time.Unix(0, st.lastSubscribed.Load()).Sub(up)
		}
		if all != 0 && st.caughtUp.Load() >= int64(recipientClients) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if all == 0 {
		fmt.Printf("after the restart: %d of %d clients subscribed again within 60 s\n", st.subscribed.Load()-before, n)
	} else {
		fmt.Printf("after the restart: all %d clients subscribed again %v after the server answered (%v after it was stopped)\n",
			n, all.Round(time.Millisecond), (all + up.Sub(stopped)).Round(time.Millisecond))
	}
	fmt.Printf("the DM sent as it came back (accepted %v after the server answered) reached %d of member 0's %d clients (live or in the reloaded list)\n",
		sent.Round(time.Millisecond), st.caughtUp.Load(), recipientClients)
	rss, _ := benchserver.Status(srv.Pid, "VmRSS:")
	fmt.Printf("server RSS after the reconnection: %.1f MiB\n", benchserver.MiB(rss))
	return nil
}

// clientStats are the counters the clients share.
type clientStats struct {
	subscribed     atomic.Int64 // successful subscriptions, reconnections included
	lastSubscribed atomic.Int64 // when the latest one answered, Unix ns
	dmEvents       atomic.Int64 // DMs received live
	caughtUp       atomic.Int64 // member 0's clients that have the DM marked below
	marker         atomic.Value // body of the DM each of member 0's clients must get
}

// client is one idle browser tab: an SSE connection subscribed to the
// member's DMs and notifications that, like the SDKs, connects again when
// the server goes away, and then reloads the DMs it may have missed.
type client struct {
	srv       *benchserver.Server
	hc        *http.Client
	token     string
	stats     *clientStats
	recipient bool // a client of member 0, who gets the marked DM
	got       atomic.Bool
}

func (c *client) run(ctx context.Context, ready func(), i int) {
	once := sync.OnceFunc(ready)
	defer once()
	for attempt := 0; ctx.Err() == nil; attempt++ {
		err := c.connect(ctx, once, attempt > 0)
		if ctx.Err() != nil {
			return
		}
		if attempt == 0 && err != nil && c.stats.subscribed.Load() == 0 {
			log.Printf("client %d: %v", i, err)
		}
		once()
		// the SDK's backoff: 200 ms, growing to a few seconds
		wait := []time.Duration{200, 300, 500, 1000, 1200, 1500, 2000}[min(attempt, 6)] * time.Millisecond
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
	}
}

// connect opens one SSE connection, subscribes it, calls ready and reads
// until the connection or ctx ends.
func (c *client) connect(ctx context.Context, ready func(), again bool) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.srv.Base+"/api/realtime", nil)
	res, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	r := bufio.NewReader(res.Body)
	var event string
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return err
		}
		line = strings.TrimRight(line, "\r\n")
		switch {
		case strings.HasPrefix(line, "event:"):
			event = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
		case strings.HasPrefix(line, "data:") && event == "PB_CONNECT":
			var pc struct{ ClientId string }
			if err := json.Unmarshal([]byte(strings.TrimSpace(strings.TrimPrefix(line, "data:"))), &pc); err != nil {
				return err
			}
			if _, err := c.srv.Call(c.token, "POST", "/api/realtime", map[string]any{
				"clientId": pc.ClientId, "subscriptions": []string{"dm_messages", "notifications"},
			}, nil); err != nil {
				return fmt.Errorf("subscribe: %w", err)
			}
			c.stats.lastSubscribed.Store(time.Now().UnixNano())
			c.stats.subscribed.Add(1)
			ready()
			if again && c.recipient {
				c.reload()
			}
		case strings.HasPrefix(line, "data:") && event == "dm_messages":
			c.stats.dmEvents.Add(1)
			if m, _ := c.stats.marker.Load().(string); m != "" && c.recipient && strings.Contains(line, m) {
				c.mark()
			}
		}
	}
}

// reload lists the member's newest DMs, as the client does when its
// connection comes back.
func (c *client) reload() {
	m, _ := c.stats.marker.Load().(string)
	if m == "" {
		return
	}
	var list struct{ Items []struct{ Body string } }
	// retried like the client's own reload, while the server is busy
	// taking the other reconnections back
	for try := 0; ; try++ {
		_, err := c.srv.Call(c.token, "GET", "/api/collections/dm_messages/records?sort=-created&perPage=5", nil, &list)
		if err == nil {
			break
		}
		if try == 20 {
			log.Printf("reload after reconnecting: %v", err)
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
	for _, it := range list.Items {
		if it.Body == m {
			c.mark()
		}
	}
}

func (c *client) mark() {
	if c.got.CompareAndSwap(false, true) {
		c.stats.caughtUp.Add(1)
	}
}

// cpuTicks is utime+stime of pid, in clock ticks.
func cpuTicks(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// fields after the command name, which is in parentheses
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return ut + st, nil
}

// clientsOf is how many of n clients log in as member i (round robin).
func clientsOf(i, n, members int) int {
	c := n / members
	if i < n%members {
		c++
	}
	return c
}
