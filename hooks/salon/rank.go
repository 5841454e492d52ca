package salon

import (
	"strings"
	"unicode/utf8"
)

// RankDoc is one text to rank: a title (may be empty) and a body.
type RankDoc struct {
	Title, Body string
}

// rankTitleWeight: a match in a title counts this many matches in a body.
const rankTitleWeight = 3.0

// RankScores gives each doc a BM25-style score for terms, the one scorer of
// every search (room search, site search): per term, its count in the doc
// (a title match counting rankTitleWeight) with saturation (k1 = 1.2) and
// length normalisation (b = 0.75) of the body against the docs' mean body
// length. Higher is better. The inverse document frequency of BM25 is left
// out: every doc here already contains every term (or nearly: a term may
// match in the title only), and counting each term over the whole index is
// what made FTS5's bm25() cost in proportion to the salon instead of the
// result.
func RankScores(docs []RankDoc, terms []string) []float64 {
	const k1, b = 1.2, 0.75
	scores := make([]float64, len(docs))
	if len(docs) == 0 {
		return scores
	}
	lowered := make([]string, 0, len(terms))
	for _, t := range terms {
		if t = strings.ToLower(t); t != "" {
			lowered = append(lowered, t)
		}
	}
	lengths := make([]float64, len(docs))
	var total float64
	for i, d := range docs {
		lengths[i] = float64(utf8.RuneCountInString(d.Body) + 1)
		total += lengths[i]
	}
	avg := total / float64(len(docs))
	for i, d := range docs {
		title, body := strings.ToLower(d.Title), strings.ToLower(d.Body)
		norm := k1 * (1 - b + b*lengths[i]/avg)
		for _, t := range lowered {
			tf := float64(strings.Count(body, t))
			if title != "" {
				tf += rankTitleWeight * float64(strings.Count(title, t))
			}
			scores[i] += tf * (k1 + 1) / (tf + norm)
		}
	}
	return scores
}
