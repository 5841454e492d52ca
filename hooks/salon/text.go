package salon

// Truncate cuts s to at most max runes, so long user text never makes a
// notification fail validation.
func Truncate(s string, max int) string {
	r := []rune(s)
	if len(r) <= max {
		return s
	}
	return string(r[:max-1]) + "…"
}
