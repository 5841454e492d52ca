// Command idlebench measures the memory and idle CPU of one salonbase server
// holding N idle realtime (SSE) clients, the way members' open browser tabs
// hold them. The server is the built binary in a child process; the clients
// live in this process, so /proc figures of the child are the server's own.
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
	flag.Parse()
	if err := run(*n, *members, *settle); err != nil {
		log.Fatal(err)
	}
}

func run(n, members int, settle time.Duration) error {
	srv, err := benchserver.Start("idlebench", "", password)
	if err != nil {
		return err
	}
	defer srv.Stop()
	pid := srv.Pid

	root, err := srv.Login("_superusers", "root@example.com", password)
	if err != nil {
		return err
	}
	// every client shares 127.0.0.1: the per-IP limits would stop the bench
	if _, err := srv.Call(root, "PATCH", "/api/settings", map[string]any{"rateLimits": map[string]any{"enabled": false}}, nil); err != nil {
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
	var dmEvents atomic.Int64
	started := time.Now()
	sem := make(chan struct{}, 32)
	var wg sync.WaitGroup
	var failed atomic.Int64
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			err := connect(ctx, hc, srv, tokens[i%members], func() { <-sem }, &dmEvents)
			if err != nil && ctx.Err() == nil {
				if failed.Add(1) <= 3 {
					log.Printf("client %d: %v", i, err)
				}
			}
		}()
	}
	for i := 0; i < cap(sem); i++ {
		sem <- struct{}{} // every client connected (or failed)
	}
	connectTook := time.Since(started)
	fmt.Printf("%d clients connected and subscribed in %v (%d failed)\n", n, connectTook.Round(time.Millisecond), failed.Load())

	cpu0, _ := cpuTicks(pid)
	time.Sleep(settle)
	cpu1, _ := cpuTicks(pid)
	rssIdle, _ := benchserver.Status(pid, "VmRSS:")
	hz := 100.0 // USER_HZ on Linux
	cpuPct := float64(cpu1-cpu0) / hz / settle.Seconds() * 100
	fmt.Printf("server RSS with %d idle clients: %.1f MiB (+%.1f MiB, %.1f KiB per client); idle CPU %.1f %% of one core over %v\n",
		n, benchserver.MiB(rssIdle), benchserver.MiB(rssIdle-rssBefore), float64(rssIdle-rssBefore)/1024/float64(n), cpuPct, settle)

	// the connections are live: one DM to member 0 reaches each of its clients
	var dm struct{ Id string }
	if _, err := srv.Call(tokens[1], "POST", "/api/collections/dm_messages/records",
		map[string]any{"recipient": ids[0], "subject": "ping", "body": "are you there"}, &dm); err != nil {
		return fmt.Errorf("send DM: %w", err)
	}
	// each client of the recipient (member 0) and of the sender (member 1)
	// gets the new message
	want := int64(clientsOf(0, n, members) + clientsOf(1, n, members))
	deadline := time.Now().Add(30 * time.Second)
	for dmEvents.Load() < want && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	fmt.Printf("a DM from member 1 to member 0 reached %d of their %d connected clients\n", dmEvents.Load(), want)
	cancel()
	wg.Wait()
	return nil
}

// connect opens one SSE connection, subscribes it with token to the
// member's DMs and notifications, calls ready, then reads until ctx ends.
func connect(ctx context.Context, hc *http.Client, srv *benchserver.Server, token string, ready func(), dmEvents *atomic.Int64) error {
	once := sync.OnceFunc(ready)
	defer once()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.Base+"/api/realtime", nil)
	res, err := hc.Do(req)
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
			var c struct{ ClientId string }
			if err := json.Unmarshal([]byte(strings.TrimSpace(strings.TrimPrefix(line, "data:"))), &c); err != nil {
				return err
			}
			if _, err := srv.Call(token, "POST", "/api/realtime", map[string]any{
				"clientId": c.ClientId, "subscriptions": []string{"dm_messages", "notifications"},
			}, nil); err != nil {
				return fmt.Errorf("subscribe: %w", err)
			}
			once()
		case strings.HasPrefix(line, "data:") && event == "dm_messages":
			dmEvents.Add(1)
		}
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
