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
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"sync"
	"time"

	"salonbase/scaling/benchserver"
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
	srv, err := benchserver.Start("bodybench", bin, password)
	if err != nil {
		return err
	}
	defer srv.Stop()
	base, pid := srv.Base, srv.Pid

	root, err := srv.Login("_superusers", "root@example.com", password)
	if err != nil {
		return err
	}
	if _, err := srv.Call(root, "POST", "/api/collections/users/records", map[string]any{
		"email": "m@example.com", "password": password, "passwordConfirm": password, "name": "M", "verified": true,
	}, nil); err != nil {
		return err
	}
	member, err := srv.Login("users", "m@example.com", password)
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
		peak, err := benchserver.Status(pid, "VmHWM:")
		if err != nil {
			return err
		}
		fmt.Printf("| %s | %v | %.0f MiB | %.2f s |\n", c.name, statuses, benchserver.MiB(peak-before), took.Seconds())
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

// rssReset resets the peak (VmHWM) to the current RSS and returns it.
func rssReset(pid int) (int64, error) {
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0); err != nil {
		return 0, fmt.Errorf("reset peak RSS: %w", err)
	}
	return benchserver.Status(pid, "VmRSS:")
}
