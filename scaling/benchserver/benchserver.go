// Package benchserver is what the bench commands under scaling/ share: a
// salonbase binary started in a child process on a fresh data dir (so the
// /proc figures of that process are the server's own), calls to its API, and
// the /proc readings.
package benchserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Server is a running salonbase child process with a superuser
// root@example.com.
type Server struct {
	Base string // http://127.0.0.1:PORT
	Pid  int
	cmd  *exec.Cmd
	work string
	hc   *http.Client // for Call: a request the server never answers fails
}

// Restart stops the server as an operator would (SIGTERM, then waiting for
// it to exit) and starts the same binary again on the same data dir and
// address, until it is healthy.
func (s *Server) Restart() error {
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	s.cmd.Wait()
	// Go listens with SO_REUSEADDR: the address is free once it exited
	next := exec.Command(s.cmd.Path, s.cmd.Args[1:]...)
	next.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := next.Start(); err != nil {
		return err
	}
	s.cmd, s.Pid = next, next.Process.Pid
	return s.waitHealthy()
}

// Start builds the binary from the current directory when bin is empty,
// creates the superuser with password and serves on a free loopback port
// until it is healthy. Stop ends it and removes its data.
func Start(name, bin, password string) (*Server, error) {
	work, err := os.MkdirTemp("", "salonbase-"+name+"-")
	if err != nil {
		return nil, err
	}
	s := &Server{work: work, hc: &http.Client{Timeout: 30 * time.Second}}
	if err := s.start(bin, password); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

func (s *Server) start(bin, password string) error {
	if bin == "" {
		bin = filepath.Join(s.work, "salonbase")
		if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
			return fmt.Errorf("go build (run from the repository root): %w\n%s", err, out)
		}
	}
	data := filepath.Join(s.work, "pb_data")
	if out, err := exec.Command(bin, "superuser", "upsert", "root@example.com", password, "--dir", data).CombinedOutput(); err != nil {
		return fmt.Errorf("superuser: %w\n%s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	addr := l.Addr().String()
	l.Close()
	s.cmd = exec.Command(bin, "serve", "--http", addr, "--dir", data)
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		return err
	}
	s.Base, s.Pid = "http://"+addr, s.cmd.Process.Pid
	return s.waitHealthy()
}

// Stop kills the server's process group and removes its data dir.
func (s *Server) Stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		s.cmd.Wait()
	}
	os.RemoveAll(s.work)
}

func (s *Server) waitHealthy() error {
	for range 600 {
		if res, err := http.Get(s.Base + "/api/health"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New("server did not come up")
}

// Call sends body as JSON with token (when not empty) and decodes the
// answer into out (when not nil); a status of 300 or more is an error.
func (s *Server) Call(token, method, path string, body, out any) (int, error) {
	b, _ := json.Marshal(body)
	req, err := http.NewRequest(method, s.Base+path, bytes.NewReader(b))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	res, err := s.hc.Do(req)
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

// Login answers a token of collection's record email.
func (s *Server) Login(collection, email, password string) (string, error) {
	var auth struct{ Token string }
	_, err := s.Call("", "POST", "/api/collections/"+collection+"/auth-with-password",
		map[string]any{"identity": email, "password": password}, &auth)
	return auth.Token, err
}

// Root logs in as the superuser root@example.com and turns PocketBase's
// per-IP rate limits off: every load client of a bench shares 127.0.0.1,
// and the limits would stop it.
func (s *Server) Root(password string) (string, error) {
	root, err := s.Login("_superusers", "root@example.com", password)
	if err != nil {
		return "", err
	}
	if _, err := s.Call(root, "PATCH", "/api/settings", map[string]any{"rateLimits": map[string]any{"enabled": false}}, nil); err != nil {
		return "", fmt.Errorf("turn rate limits off: %w", err)
	}
	return root, nil
}

// Status reads a size field of /proc/PID/status (VmRSS:, VmHWM: …) in bytes.
func Status(pid int, field string) (int64, error) {
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

// MiB is b in mebibytes.
func MiB(b int64) float64 { return float64(b) / (1 << 20) }

// DataDir is the server's pb_data directory (a bench may seed data.db
// directly while the server runs: SQLite in WAL mode takes turns).
func (s *Server) DataDir() string { return filepath.Join(s.work, "pb_data") }

// CPUTicks is utime+stime of pid, in clock ticks (1/100 s on Linux).
func CPUTicks(pid int) (int64, error) {
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
