// Command bench runs the performance table of the salon at its scale and
// prints it: each row starts its own server (the built binary, in a child
// process, on a fresh data dir; see scaling/benchserver), seeds it, and
// measures it through HTTP from this process, so the figures are the
// server's own and the load client never shares its process.
//
//	go run ./scaling/bench                        # quick: small sizes, a few minutes
//	go run ./scaling/bench -full                  # the sizes of the goals (1M messages + 1M posts, 5,000 subscribers)
//	go run ./scaling/bench -rows search -messages 300000
//	go run ./scaling/bench -rows fanout -fanout 0,2000
//
// Every row is a func in its own file, registered in tableRows below; a
// part measured by a command of its own (scaling/fanbench) is run as a
// child process and its table printed after the main one.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"salonbase/scaling/benchserver"
)

// tableRows lists the parts of the table in the order they run and print.
func tableRows() []tableRow {
	return []tableRow{
		{name: "search", run: searchRows},
		{name: "fanout", section: fanoutSection},
	}
}

// tableRow is one part of the table: run measures it and returns its lines,
// or section (a command with a table of its own) returns a text printed
// whole after the table.
type tableRow struct {
	name    string
	run     func(b *bench) ([]line, error)
	section func(b *bench) (string, error)
}

// line is one printed line of the table: what was measured, the figure,
// the goal and whether the figure meets it.
type line struct {
	what, figure, goal string
	met                bool
}

// bench holds what every row shares: the flags, the binary and the
// servers started (stopped if the command is interrupted).
type bench struct {
	mu      sync.Mutex
	servers []*benchserver.Server

	bin      string // the salonbase binary every row starts
	dir      string // where the bench builds what it runs
	full     bool
	fanout   string // subscribers per room of the fan-out section
	messages int    // room messages in the search row's salon
	posts    int    // forum posts in the search row's salon
	requests int    // requests per measured query
}

const password = "bench-password-0123456"

func main() {
	b := &bench{}
	full := flag.Bool("full", false, "the sizes of the goals (1M room messages, 1M forum posts); slow to seed")
	only := flag.String("rows", "", "run only these rows (comma-separated: "+rowNames()+")")
	flag.StringVar(&b.bin, "bin", "", "salonbase binary to measure (default: built from this checkout)")
	flag.IntVar(&b.messages, "messages", 0, "room messages in the search salon (default 100,000; 1,000,000 with -full)")
	flag.IntVar(&b.posts, "posts", 0, "forum posts in the search salon (default 100,000; 1,000,000 with -full)")
	flag.IntVar(&b.requests, "requests", 200, "requests per measured search query")
	flag.StringVar(&b.fanout, "fanout", "", "room sizes of the fan-out section, comma-separated (default 0,1000; 0,1000,5000 with -full)")
	flag.Parse()
	b.full = *full
	if b.messages == 0 {
		b.messages = pick(b.full, 1_000_000, 100_000)
	}
	if b.posts == 0 {
		b.posts = pick(b.full, 1_000_000, 100_000)
	}
	if err := run(b, *only); err != nil {
		log.Fatal(err)
	}
}

// start starts a server for a row (see benchserver.Start); the row stops it.
func (b *bench) start(name string) (*benchserver.Server, error) {
	srv, err := benchserver.Start(name, b.bin, password)
	if err == nil {
		b.mu.Lock()
		b.servers = append(b.servers, srv)
		b.mu.Unlock()
	}
	return srv, err
}

// stopOnSignal stops every server started when the command is interrupted
// (they run in their own process groups, so they would outlive it).
func (b *bench) stopOnSignal() {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ch
		b.mu.Lock()
		for _, srv := range b.servers {
			srv.Stop()
		}
		os.Exit(1)
	}()
}

func run(b *bench, only string) error {
	b.stopOnSignal()
	dir, err := os.MkdirTemp("", "salonbase-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	b.dir = dir
	if b.bin == "" {
		if b.bin, err = benchserver.Build(dir); err != nil {
			return err
		}
	}
	want := map[string]bool{}
	for _, name := range strings.Split(only, ",") {
		if name = strings.TrimSpace(name); name != "" {
			want[name] = true
		}
	}
	began := time.Now()
	var all []line
	var sections []string
	for _, r := range tableRows() {
		if len(want) > 0 && !want[r.name] {
			continue
		}
		load0 := loadAverage()
		log.Printf("%s: started (load average %s)", r.name, load0)
		if r.section != nil {
			text, err := r.section(b)
			if err != nil {
				return fmt.Errorf("%s: %w", r.name, err)
			}
			sections = append(sections, text)
		} else {
			lines, err := r.run(b)
			if err != nil {
				return fmt.Errorf("%s: %w", r.name, err)
			}
			all = append(all, lines...)
		}
		log.Printf("%s: done (load average %s)", r.name, loadAverage())
	}
	fmt.Printf("\n%s, %s, load average at the end %s, %s in all\n\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"),
		cpuName(), loadAverage(), time.Since(began).Round(time.Second))
	if len(all) > 0 {
		fmt.Println("| what | figure | goal | met |")
		fmt.Println("|---|---|---|---|")
	}
	for _, l := range all {
		met := "no"
		if l.met {
			met = "yes"
		}
		fmt.Printf("| %s | %s | %s | %s |\n", l.what, l.figure, l.goal, met)
	}
	for _, text := range sections {
		fmt.Printf("\n%s", text)
	}
	return nil
}

func rowNames() string {
	var names []string
	for _, r := range tableRows() {
		names = append(names, r.name)
	}
	return strings.Join(names, ", ")
}

func pick(full bool, big, small int) int {
	if full {
		return big
	}
	return small
}

// loadAverage is the 1-, 5- and 15-minute load average of the machine.
func loadAverage() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(raw))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// cpuName names the machine's processor and how many cores it has.
func cpuName() string {
	raw, _ := os.ReadFile("/proc/cpuinfo")
	name, cores := "?", 0
	for _, l := range strings.Split(string(raw), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			name = strings.TrimSpace(v)
			cores++
		}
	}
	return fmt.Sprintf("%d × %s", cores, name)
}
