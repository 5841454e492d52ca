package benchserver

import (
	mrand "math/rand"
	"strings"
)

// Vocabulary makes n distinct words, alternating Japanese (katakana and
// kanji syllables, 3 to 6 characters) and English-like ones (4 to 8
// letters), always the same: the words of every search benchmark (the
// room benchmarks in hooks/rooms, the search rows of scaling/bench).
func Vocabulary(n int) []string {
	ja := []string{"カ", "キ", "ク", "サ", "シ", "ス", "タ", "チ", "ナ", "ニ", "ハ", "ヒ", "マ", "ミ", "ラ", "リ", "ン", "ー",
		"会", "議", "資", "料", "東", "京", "予", "定", "確", "認", "写", "真", "動", "画", "配", "信"}
	en := []string{"ka", "to", "re", "mi", "sa", "lo", "ne", "di", "ba", "co", "fe", "ru", "pi", "ga", "wo", "ly"}
	rng := mrand.New(mrand.NewSource(2))
	seen := map[string]bool{}
	var out []string
	for len(out) < n {
		var sb strings.Builder
		if len(out)%2 == 0 {
			for range 3 + rng.Intn(4) {
				sb.WriteString(ja[rng.Intn(len(ja))])
			}
		} else {
			for range 2 + rng.Intn(3) {
				sb.WriteString(en[rng.Intn(len(en))])
			}
		}
		if w := sb.String(); !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}

// ZipfText writes 4–15 words drawn Zipf-distributed from vocab (see
// NewZipf), as chat and forum text is, each followed by a space.
func ZipfText(rng *mrand.Rand, zipf *mrand.Zipf, vocab []string) string {
	var sb strings.Builder
	for range 4 + rng.Intn(12) {
		sb.WriteString(vocab[zipf.Uint64()])
		sb.WriteByte(' ')
	}
	return sb.String()
}

// NewZipf draws positions in vocab with Zipf's law (s = 1.1), the word
// frequencies of real chat: vocab[0] the most common.
func NewZipf(rng *mrand.Rand, vocab []string) *mrand.Zipf {
	return mrand.NewZipf(rng, 1.1, 1, uint64(len(vocab)-1))
}
