package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestVersionNamesTheBuild: --version says which Salonbase and which
// PocketBase this is, not PocketBase's "(untracked)".
func TestVersionNamesTheBuild(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("--version: %v\n%s", err, out)
	}
	got := string(out)
	if !strings.HasPrefix(got, "salonbase version ") || !strings.Contains(got, "(PocketBase v0.40.") ||
		strings.Contains(got, "untracked") {
		t.Fatalf("--version = %q", got)
	}
}

// TestServeWritesNoMigrationsUnlessAsked: a collection changed in the
// dashboard must not write source files into the operator's folder; with
// --automigrate (for development) it does.
func TestServeWritesNoMigrationsUnlessAsked(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "pb_data")
	if out, err := exec.Command(bin, "superuser", "upsert", "root@example.com", "1234567890", "--dir", data).CombinedOutput(); err != nil {
		t.Fatalf("superuser upsert: %v\n%s", err, out)
	}

	for i, tc := range []struct {
		flags []string
		want  bool
	}{
		{nil, false},
		{[]string{"--automigrate"}, true},
	} {
		addr := freeAddr(t)
		args := append([]string{"serve", "--http", addr, "--dir", data}, tc.flags...)
		srv := startLogged(t, dir, bin, args...)
		base := "http://" + addr
		WaitFor(t, base+"/api/health")
		token := superuserToken(t, base)
		body := `{"name":"scratch` + string(rune('a'+i)) + `","type":"base","fields":[{"name":"title","type":"text"}]}`
		req, _ := http.NewRequest(http.MethodPost, base+"/api/collections", strings.NewReader(body))
		req.Header.Set("Authorization", token)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("create collection: %d", res.StatusCode)
		}
		srv.stop()

		files, _ := filepath.Glob(filepath.Join(dir, "pb_migrations", "*.go"))
		if got := len(files) > 0; got != tc.want {
			t.Fatalf("serve %v: migration files written = %v (%v), want %v", tc.flags, got, files, tc.want)
		}
	}
}

// TestGoRunServeIsQuiet: the README's run command starts a quiet server;
// PocketBase's dev mode (every SQL statement on the console) only with --dev.
func TestGoRunServeIsQuiet(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	addr := freeAddr(t)
	wd, _ := os.Getwd()
	srv := startLogged(t, wd, "go", "run", ".", "serve", "--http", addr, "--dir", filepath.Join(dir, "pb_data"))
	waitForWithin(t, "http://"+addr+"/api/health", 3*time.Minute) // go run compiles first
	srv.stop()
	out := srv.output()
	if strings.Contains(out, "SELECT ") || strings.Count(out, "\n") > 30 {
		t.Fatalf("go run . serve printed %d lines, SQL included:\n%.2000s", strings.Count(out, "\n"), out)
	}
	if !strings.Contains(out, "Server started") {
		t.Fatalf("no start banner:\n%s", out)
	}
}

// loggedProcess is a server started by a test, its output captured; it
// runs in its own process group so that `go run` and its child both stop.
type loggedProcess struct {
	cmd *exec.Cmd
	mu  sync.Mutex
	buf bytes.Buffer
}

func startLogged(t *testing.T, dir, name string, args ...string) *loggedProcess {
	t.Helper()
	p := &loggedProcess{cmd: exec.Command(name, args...)}
	p.cmd.Dir = dir
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	r, w := io.Pipe()
	p.cmd.Stdout, p.cmd.Stderr = w, w
	go func() {
		s := bufio.NewScanner(r)
		for s.Scan() {
			p.mu.Lock()
			p.buf.WriteString(s.Text() + "\n")
			p.mu.Unlock()
		}
	}()
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.stop)
	return p
}

func (p *loggedProcess) stop() {
	if p.cmd.Process == nil || p.cmd.ProcessState != nil {
		return
	}
	syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
}

func (p *loggedProcess) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.buf.String()
}

// buildBinary builds the server once per test run and hands every test the
// same binary, as an operator would run it.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin, err := builtBinary()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// testBinDir holds the binary the tests build; TestMain removes it.
var testBinDir string

var builtBinary = sync.OnceValues(func() (string, error) {
	bin := filepath.Join(testBinDir, "salonbase")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "salonbase-bin-")
	if err != nil {
		panic(err)
	}
	testBinDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func superuserToken(t *testing.T, base string) string {
	t.Helper()
	res, err := http.Post(base+"/api/collections/_superusers/auth-with-password", "application/json",
		strings.NewReader(`{"identity":"root@example.com","password":"1234567890"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var auth struct{ Token string }
	if err := json.NewDecoder(res.Body).Decode(&auth); err != nil || auth.Token == "" {
		t.Fatalf("superuser login: %d %v", res.StatusCode, err)
	}
	return auth.Token
}

// waitForWithin waits for a started server to answer, for d or, when the
// test binary's deadline leaves more time, until 30 s before it. The limit
// only catches a server that never comes up: under the race detector at a
// load average of 60 on 2 cores, `go run .` took over 3 minutes to compile
// the binary before it could answer.
func waitForWithin(t *testing.T, url string, d time.Duration) {
	t.Helper()
	if deadline, ok := t.Deadline(); ok && time.Until(deadline)-30*time.Second > d {
		d = time.Until(deadline) - 30*time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	for ctx.Err() == nil {
		if res, err := http.Get(url); err == nil {
			res.Body.Close()
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("server did not come up at %s within %s", url, d)
}
