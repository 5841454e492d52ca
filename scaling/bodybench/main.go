// Command bodybench measures how much memory one salonbase server takes to
// answer oversized request bodies: the peak RSS growth (VmHWM, reset before
// each case through /proc/PID/clear_refs) while it answers an anonymous
// 100 MiB JSON body to room_messages (announced and chunked, one and three
// at once), a member's JSON body of 1M unknown keys, and a member's 100 MiB
// JSON body. The server is a built binary in a child process.
//
//	go run ./scaling/bodybench                 # builds the binary from this checkout
//	go run ./scaling/bodybench -bin ./salonbase
package main

import (
	"bytes"
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
	"syscall"
	"time"
)

const password = "body-bench-password-0123"

func main() {
	bin := flag.String("bin", "", "salonbase binary to measure (default: go build from the current directory)")
	size := flag.Int("mib", 100, "size of the large bodies, MiB")
	flag.Parse()
	if err := run(*bin, *size<<20); err != nil {
		log.Fatal(err)
	}
}

func run(bin string, size int) error {
	work, err := os.MkdirTemp("", "salonbase-bodybench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	if bin == "" {
		bin = filepath.Join(work, "salonbase")
		if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
			return fmt.Errorf("go build (run from the repository root): %w\n%s", err, out)
		}
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
	if _, err := call(base, root, "POST", "/api/collections/users/records", map[string]any{
		"email": "m@example.com", "password": password, "passwordConfirm": password, "name": "M", "verified": true,
	}); err != nil {
		return err
	}
	member, err := login(base, "users", "m@example.com")
	if err != nil {
		return err
	}

	cases := []struct {
		name     string
		token    string
		parallel int
		chunked  bool
		body     func() (io.Reader, int64)
	}{
		{"anonymous, 100 MiB JSON", "", 1, false, func() (io.Reader, int64) { return padded(size) }},
		{"anonymous, 100 MiB JSON, chunked", "", 1, true, func() (io.Reader, int64) { return padded(size) }},
		{"anonymous, 3 × 100 MiB JSON at once", "", 3, false, func() (io.Reader, int64) { return padded(size) }},
		{"member, 1M unknown keys (13 MB)", member, 1, true, func() (io.Reader, int64) { return manyKeys(1_000_000) }},
		{"member, 100 MiB JSON", member, 1, false, func() (io.Reader, int64) { return padded(size) }},
	}
	fmt.Printf("| case | answer | peak RSS growth | time |\n|---|---|---|---|\n")
	for _, c := range cases {
		time.Sleep(2 * time.Second) // let the previous case's garbage go
		before, err := rssReset(pid)
		if err != nil {
			return err
		}
		start := time.Now()
		statuses := make([]int, c.parallel)
		var wg sync.WaitGroup
		for i := range c.parallel {
			wg.Add(1)
			go func() {
				defer wg.Done()
				body, n := c.body()
				if c.chunked {
					n = -1
				}
				statuses[i] = post(base, c.token, body, n)
			}()
		}
		wg.Wait()
		took := time.Since(start)
		peak, err := hwm(pid)
		if err != nil {
			return err
		}
		fmt.Printf("| %s | %v | %.0f MiB | %.2f s |\n", c.name, statuses, mib(peak-before), took.Seconds())
	}
	return nil
}

// padded is {"room":"x","body":"<n bytes>"}, generated as it is sent.
func padded(n int) (io.Reader, int64) {
	head, tail := `{"room":"x","body":"`, `"}`
	pr, pw := io.Pipe()
	go func() {
		pw.Write([]byte(head))
		chunk := bytes.Repeat([]byte("a"), 1<<20)
		for left := n; left > 0; left -= len(chunk) {
			if _, err := pw.Write(chunk[:min(left, len(chunk))]); err != nil {
				return
			}
		}
		pw.Write([]byte(tail))
		pw.Close()
	}()
	return pr, int64(len(head) + n + len(tail))
}

// manyKeys is {"room":"x","k0":0,"k1":0,...}.
func manyKeys(n int) (io.Reader, int64) {
	var b bytes.Buffer
	b.WriteString(`{"room":"x"`)
	for i := range n {
		fmt.Fprintf(&b, `,"k%d":0`, i)
	}
	b.WriteString("}")
	return &b, int64(b.Len())
}

func post(base, token string, body io.Reader, length int64) int {
	req, _ := http.NewRequest("POST", base+"/api/collections/room_messages/records", body)
	req.Header.Set("Content-Type", "application/json")
	req.ContentLength = length
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0 // the server hung up before reading it all
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

func call(base, token, method, path string, body any) (int, error) {
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, base+path, bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		return res.StatusCode, fmt.Errorf("%s %s: %d %s", method, path, res.StatusCode, out)
	}
	return 200, nil
}

func login(base, collection, email string) (string, error) {
	raw, _ := json.Marshal(map[string]any{"identity": email, "password": password})
	res, err := http.Post(base+"/api/collections/"+collection+"/auth-with-password", "application/json", bytes.NewReader(raw))
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	var auth struct{ Token string }
	if err := json.NewDecoder(res.Body).Decode(&auth); err != nil || auth.Token == "" {
		return "", fmt.Errorf("login %s: %d %v", email, res.StatusCode, err)
	}
	return auth.Token, nil
}

func waitHealthy(base string) error {
	for range 600 {
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

// rssReset resets the peak (VmHWM) to the current RSS and returns it.
func rssReset(pid int) (int64, error) {
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0); err != nil {
		return 0, fmt.Errorf("reset peak RSS: %w", err)
	}
	return status(pid, "VmRSS:")
}

func hwm(pid int) (int64, error) { return status(pid, "VmHWM:") }

func status(pid int, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == field {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no " + field)
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }
