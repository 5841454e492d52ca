// Command vulndb builds a Go vulnerability database that govulncheck reads
// offline with -db file:///DIR.
//
// It reads OSV entries (*.json, found recursively under -src) and writes the
// v1 layout served by vuln.go.dev:
//
//	DIR/index/db.json       {"modified": newest entry modification}
//	DIR/index/modules.json  [{"path", "vulns": [{"id", "modified", "fixed"}]}]
//	DIR/ID/<id>.json        the OSV entry
//
// Only "Go" ecosystem packages are kept. When a source mixes GO-* entries with
// GHSA/CVE entries for the same flaw (as the OSV.dev export does), the GO-*
// entry wins: only it carries the package symbols govulncheck needs to tell
// whether our code reaches the vulnerable function.
//
// The golang/vulndb repository stores entries with zero "modified" (and, since
// 2023, zero "published") times; vuln.go.dev fills them from git history.
// -times names a TSV file (id, published, modified) with those dates.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"golang.org/x/mod/semver"
)

// entry holds the fields of an OSV entry this command reads; raw keeps every
// top-level field so the written entry loses nothing.
type entry struct {
	ID        string    `json:"id"`
	Modified  time.Time `json:"modified"`
	Published time.Time `json:"published"`
	Aliases   []string  `json:"aliases"`
	Affected  []affected

	raw map[string]json.RawMessage
}

type affected struct {
	Package struct {
		Name      string `json:"name"`
		Ecosystem string `json:"ecosystem"`
	} `json:"package"`
	Ranges []struct {
		Type   string `json:"type"`
		Events []struct {
			Introduced string `json:"introduced,omitempty"`
			Fixed      string `json:"fixed,omitempty"`
		} `json:"events"`
	} `json:"ranges"`
}

type moduleVuln struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	Fixed    string    `json:"fixed,omitempty"`
}

type moduleMeta struct {
	Path  string       `json:"path"`
	Vulns []moduleVuln `json:"vulns"`
}

// validID keeps ids usable as file names.
var validID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

func main() {
	src := flag.String("src", "", "directory holding OSV entries (*.json, searched recursively)")
	timesFile := flag.String("times", "", "optional TSV file: id, published, modified (RFC 3339) for entries whose times are zero")
	out := flag.String("out", "", "directory to write the database to (must not exist or be empty)")
	flag.Parse()
	if *src == "" || *out == "" {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*src, *timesFile, *out); err != nil {
		log.Fatalf("vulndb: %v", err)
	}
}

func run(src, timesFile, out string) error {
	entries, err := readEntries(src)
	if err != nil {
		return err
	}
	if timesFile != "" {
		if err := fillTimes(entries, timesFile); err != nil {
			return err
		}
	}
	entries = preferGoIDs(entries)
	if len(entries) == 0 {
		return fmt.Errorf("no Go entries found under %s", src)
	}
	newest, err := write(entries, out)
	if err != nil {
		return err
	}
	fmt.Printf("vulndb: wrote %d Go entries to %s (newest modified %s)\n",
		len(entries), out, newest.Format(time.RFC3339))
	return nil
}

// readEntries loads every OSV entry under dir that affects a Go package,
// dropping the packages of other ecosystems.
func readEntries(dir string) ([]*entry, error) {
	var entries []*entry
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || filepath.Ext(path) != ".json" {
			return nil
		}
		e, err := readEntry(path)
		if err != nil {
			return fmt.Errorf("read %s: %w", path, err)
		}
		if e != nil {
			entries = append(entries, e)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("scan %s: %w", dir, err)
	}
	return entries, nil
}

// readEntry returns nil for JSON files that are not OSV entries or that
// affect no Go package.
func readEntry(path string) (*entry, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	if raw["id"] == nil || raw["affected"] == nil {
		return nil, nil
	}
	var e entry
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, fmt.Errorf("not an OSV entry: %w", err)
	}
	if !validID.MatchString(e.ID) {
		return nil, fmt.Errorf("unusable id %q", e.ID)
	}

	var all []json.RawMessage
	if err := json.Unmarshal(raw["affected"], &all); err != nil {
		return nil, fmt.Errorf("%s: affected: %w", e.ID, err)
	}
	var goRaw []json.RawMessage
	e.Affected = nil
	for _, r := range all {
		var a affected
		if err := json.Unmarshal(r, &a); err != nil {
			return nil, fmt.Errorf("%s: affected: %w", e.ID, err)
		}
		if a.Package.Ecosystem == "Go" {
			goRaw = append(goRaw, r)
			e.Affected = append(e.Affected, a)
		}
	}
	if len(goRaw) == 0 {
		return nil, nil
	}
	if raw["affected"], err = json.Marshal(goRaw); err != nil {
		return nil, fmt.Errorf("%s: %w", e.ID, err)
	}
	e.raw = raw
	return &e, nil
}

// fillTimes sets zero published/modified times from the TSV file.
func fillTimes(entries []*entry, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open times: %w", err)
	}
	defer f.Close()

	type times struct{ published, modified time.Time }
	byID := map[string]times{}
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		fields := strings.Split(sc.Text(), "\t")
		if len(fields) != 3 {
			return fmt.Errorf("%s:%d: want 3 tab-separated fields, got %d", path, line, len(fields))
		}
		p, err := time.Parse(time.RFC3339, fields[1])
		if err != nil {
			return fmt.Errorf("%s:%d: published: %w", path, line, err)
		}
		m, err := time.Parse(time.RFC3339, fields[2])
		if err != nil {
			return fmt.Errorf("%s:%d: modified: %w", path, line, err)
		}
		byID[fields[0]] = times{p.UTC(), m.UTC()}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}

	for _, e := range entries {
		t, ok := byID[e.ID]
		if !ok {
			continue
		}
		if e.Published.IsZero() {
			e.Published = t.published
			if err := e.setRaw("published", t.published); err != nil {
				return err
			}
		}
		if e.Modified.IsZero() {
			e.Modified = t.modified
			if err := e.setRaw("modified", t.modified); err != nil {
				return err
			}
		}
	}
	return nil
}

func (e *entry) setRaw(key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("%s: %s: %w", e.ID, key, err)
	}
	e.raw[key] = b
	return nil
}

// preferGoIDs drops entries that a GO-* entry already covers (by id or
// alias), and rejects duplicate ids.
func preferGoIDs(entries []*entry) []*entry {
	covered := map[string]bool{}
	for _, e := range entries {
		if strings.HasPrefix(e.ID, "GO-") {
			for _, a := range e.Aliases {
				covered[a] = true
			}
		}
	}
	seen := map[string]bool{}
	var kept []*entry
	for _, e := range entries {
		if seen[e.ID] {
			continue
		}
		if !strings.HasPrefix(e.ID, "GO-") && coveredBy(e, covered) {
			continue
		}
		seen[e.ID] = true
		kept = append(kept, e)
	}
	sort.Slice(kept, func(i, j int) bool { return kept[i].ID < kept[j].ID })
	return kept
}

func coveredBy(e *entry, covered map[string]bool) bool {
	if covered[e.ID] {
		return true
	}
	for _, a := range e.Aliases {
		if covered[a] {
			return true
		}
	}
	return false
}

// write stores the entries and both indexes in the v1 layout and returns the
// newest modification time.
func write(entries []*entry, out string) (time.Time, error) {
	if err := ensureEmptyDir(out); err != nil {
		return time.Time{}, err
	}
	for _, dir := range []string{"ID", "index"} {
		if err := os.MkdirAll(filepath.Join(out, dir), 0o755); err != nil {
			return time.Time{}, fmt.Errorf("create %s: %w", dir, err)
		}
	}

	var newest time.Time
	modules := map[string]*moduleMeta{}
	for _, e := range entries {
		if e.Modified.After(newest) {
			newest = e.Modified
		}
		if err := writeJSON(filepath.Join(out, "ID", e.ID+".json"), e.raw); err != nil {
			return time.Time{}, err
		}
		for _, a := range e.Affected {
			m := modules[a.Package.Name]
			if m == nil {
				m = &moduleMeta{Path: a.Package.Name}
				modules[a.Package.Name] = m
			}
			m.Vulns = append(m.Vulns, moduleVuln{ID: e.ID, Modified: e.Modified, Fixed: latestFix(a)})
		}
	}

	index := make([]*moduleMeta, 0, len(modules))
	for _, m := range modules {
		index = append(index, m)
	}
	sort.Slice(index, func(i, j int) bool { return index[i].Path < index[j].Path })
	if err := writeJSON(filepath.Join(out, "index", "modules.json"), index); err != nil {
		return time.Time{}, err
	}
	db := struct {
		Modified time.Time `json:"modified"`
	}{newest}
	if err := writeJSON(filepath.Join(out, "index", "db.json"), db); err != nil {
		return time.Time{}, err
	}
	return newest, nil
}

// latestFix mirrors govulncheck's NonSupersededFix: the newest fixed version
// of the package, or "" when the flaw was reintroduced after it. govulncheck
// skips an entry for a module at or above this version, so "" is the safe
// answer whenever in doubt.
func latestFix(a affected) string {
	var latest string
	for _, r := range a.Ranges {
		if r.Type != "SEMVER" {
			continue
		}
		for _, ev := range r.Events {
			if ev.Fixed != "" && less(latest, ev.Fixed) {
				latest = ev.Fixed
			}
		}
		for _, ev := range r.Events {
			if ev.Introduced != "" && ev.Introduced != "0" && less(latest, ev.Introduced) {
				latest = ""
				break
			}
		}
	}
	return latest
}

// less compares OSV SEMVER versions, which have no "v" prefix.
func less(a, b string) bool {
	return semver.Compare(canonical(a), canonical(b)) < 0
}

func canonical(v string) string {
	return "v" + strings.TrimPrefix(strings.TrimPrefix(v, "v"), "go")
}

func ensureEmptyDir(dir string) error {
	names, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("check output dir: %w", err)
	}
	if len(names) > 0 {
		return fmt.Errorf("output dir %s is not empty", dir)
	}
	return nil
}

func writeJSON(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
