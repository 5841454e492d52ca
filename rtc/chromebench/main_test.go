package main

import (
	"os"
	"strings"
	"testing"
)

// layersOf returns the simulcastLayers array literal of a source text,
// whitespace folded (the web client's TypeScript names its type).
func layersOf(t *testing.T, src string) string {
	t.Helper()
	_, rest, ok := strings.Cut(src, "const simulcastLayers")
	if !ok {
		t.Fatal("no simulcastLayers")
	}
	_, rest, _ = strings.Cut(rest, "= [")
	body, _, ok := strings.Cut(rest, "];")
	if !ok {
		t.Fatal("simulcastLayers: no end")
	}
	return strings.Join(strings.Fields(body), " ")
}

// The benchmark's figure is the product's only if its page publishes a
// camera with the web client's encodings.
func TestPageMatchesWebClient(t *testing.T) {
	client, err := os.ReadFile("../../ui/src/lib/live.ts")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := layersOf(t, page), layersOf(t, string(client)); got != want {
		t.Errorf("chromebench publishes the layers\n  %s\nthe web client (ui/src/lib/live.ts) publishes\n  %s", got, want)
	}
	for _, s := range []string{string(client), page} {
		if !strings.Contains(s, "{ sendEncodings: simulcastLayers }") {
			t.Errorf("a camera's video transceiver is not added with sendEncodings: simulcastLayers in\n%.200s…", s)
		}
	}
}
