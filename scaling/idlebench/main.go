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
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
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
	work, err := os.MkdirTemp("", "salonbase-idlebench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	bin := filepath.Join(work, "salonbase")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		return fmt.Errorf("go build (run from the repository root): %w\n%s", err, out)
	}
	data := filepath.Join(work, "pb_data")
	if out, err := exec.Command(bin, "superuser", "upsert", "root@example.com", password, "--dir", data).CombinedOutput(); err != nil {
		return fmt.Errorf("superuser: %w\n%s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	addr := l.Addr().String()
	l.Close()
	srv := exec.Command(bin, "serve", "--http", addr, "--dir", data)
	srv.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := srv.Start(); err != nil {
		return err
	}
	defer func() {
		syscall.Kill(-srv.Process.Pid, syscall.SIGKILL)
		srv.Wait()
	}()
	base := "http://" + addr
	if err := waitHealthy(base); err != nil {
		return err
	}
	pid := srv.Process.Pid

	root, err := login(base, "_superusers", "root@example.com")
	if err != nil {
		return err
	}
	// every client shares 127.0.0.1: the per-IP limits would stop the bench
	if _, err := call(base, root, "PATCH", "/api/settings", map[string]any{"rateLimits": map[string]any{"enabled": false}}, nil); err != nil {
		return err
	}
	tokens := make([]string, members)
	ids := make([]string, members)
	for i := range tokens {
		email := fmt.Sprintf("idle%d@example.com", i)
		var rec struct{ Id string }
		if _, err := call(base, "", "POST", "/api/collections/users/records", map[string]any{
			"email": email, "password": password, "passwordConfirm": password, "name": fmt.Sprintf("Idle %d", i),
		}, &rec); err != nil {
			return err
		}
		if tokens[i], err = login(base, "users", email); err != nil {
			return err
		}
		ids[i] = rec.Id
	}

	rssBefore, _ := rss(pid)
	fmt.Printf("server RSS with 0 clients: %.1f MiB (%d members)\n", mib(rssBefore), members)

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
			err := connect(ctx, hc, base, tokens[i%members], func() { <-sem }, &dmEvents)
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
	rssIdle, _ := rss(pid)
	hz := 100.0 // USER_HZ on Linux
	cpuPct := float64(cpu1-cpu0) / hz / settle.Seconds() * 100
	fmt.Printf("server RSS with %d idle clients: %.1f MiB (+%.1f MiB, %.1f KiB per client); idle CPU %.1f %% of one core over %v\n",
		n, mib(rssIdle), mib(rssIdle-rssBefore), float64(rssIdle-rssBefore)/1024/float64(n), cpuPct, settle)

	// the connections are live: one DM to member 0 reaches each of its clients
	var dm struct{ Id string }
	if _, err := call(base, tokens[1], "POST", "/api/collections/dm_messages/records",
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
func connect(ctx context.Context, hc *http.Client, base, token string, ready func(), dmEvents *atomic.Int64) error {
	once := sync.OnceFunc(ready)
	defer once()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/realtime", nil)
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
			if _, err := call(base, token, "POST", "/api/realtime", map[string]any{
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

func call(base, token, method, path string, body, out any) (int, error) {
	b, _ := json.Marshal(body)
	req, err := http.NewRequest(method, base+path, bytes.NewReader(b))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		return res.StatusCode, fmt.Errorf("%s %s: %d %.200s", method, path, res.StatusCode, raw)
	}
	if out != nil {
		return res.StatusCode, json.Unmarshal(raw, out)
	}
	return res.StatusCode, nil
}

func login(base, collection, email string) (string, error) {
	var auth struct{ Token string }
	_, err := call(base, "", "POST", "/api/collections/"+collection+"/auth-with-password",
		map[string]any{"identity": email, "password": password}, &auth)
	return auth.Token, err
}

func waitHealthy(base string) error {
	for i := 0; i < 600; i++ {
		if res, err := http.Get(base + "/api/health"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New("server did not come up")
}

func rss(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmRSS")
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

func mib(b int64) float64 { return float64(b) / (1 << 20) }
