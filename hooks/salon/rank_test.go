package salon_test

import (
	"testing"

	"salonbase/hooks/salon"
)

// TestRankScores: the one scorer of the room search and the site search
// puts more matches first, a shorter text before a longer one with the same
// matches, counts a title match above a body match, ignores case, and gives
// a text without the term nothing.
func TestRankScores(t *testing.T) {
	t.Parallel()
	docs := []salon.RankDoc{
		{Body: "apple pie and apple juice"},                      // 0: twice
		{Body: "an apple"},                                       // 1: once, short
		{Body: "an apple among many other words in a long text"}, // 2: once, long
		{Title: "Apple", Body: "a fruit tart"},                   // 3: once, in the title
		{Body: "banana bread"},                                   // 4: never
	}
	s := salon.RankScores(docs, []string{"APPLE"})
	if !(s[0] > s[2] && s[1] > s[2]) {
		t.Errorf("two matches and a short text should beat one match in a long text: %v", s)
	}
	if !(s[3] > s[1]) {
		t.Errorf("a title match should beat a body match: %v", s)
	}
	if s[4] != 0 {
		t.Errorf("a text without the term scored %v", s[4])
	}
	// every term adds: a doc with both words beats docs with one
	two := salon.RankScores([]salon.RankDoc{{Body: "apple pie"}, {Body: "apple tart"}}, []string{"apple", "pie"})
	if !(two[0] > two[1]) {
		t.Errorf("both words should beat one: %v", two)
	}
	if got := salon.RankScores(nil, []string{"apple"}); len(got) != 0 {
		t.Errorf("no docs: %v", got)
	}
}
