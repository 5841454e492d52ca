package salon

import (
	"strings"
	"unicode/utf8"
)

// RankScores gives each text a BM25-style score for terms: per term, its
// count in the text with saturation (k1 = 1.2) and length normalisation
// (b = 0.75) against the texts' mean length. Higher is better. The inverse
// document frequency of BM25 is left out: every text here already contains
// every term, and counting each term over the whole index is what made
// FTS5's bm25() cost in proportion to the salon instead of the result.
func RankScores(texts []string, terms []string) []float64 {
	const k1, b = 1.2, 0.75
	scores := make([]float64, len(texts))
	if len(texts) == 0 {
		return scores
	}
	lowered := make([]string, 0, len(terms))
	for _, t := range terms {
		if t = strings.ToLower(t); t != "" {
			lowered = append(lowered, t)
		}
	}
	lengths := make([]float64, len(texts))
	var total float64
	for i, t := range texts {
		lengths[i] = float64(utf8.RuneCountInString(t) + 1)
		total += lengths[i]
	}
	avg := total / float64(len(texts))
	for i, text := range texts {
		text = strings.ToLower(text)
		norm := k1 * (1 - b + b*lengths[i]/avg)
		for _, t := range lowered {
			tf := float64(strings.Count(text, t))
			scores[i] += tf * (k1 + 1) / (tf + norm)
		}
	}
	return scores
}
