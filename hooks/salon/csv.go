package salon

import "strings"

// CsvSafe keeps spreadsheet programs from running member-written text as a
// formula (CSV injection): a cell that starts with = + - @ or a tab or
// carriage return is prefixed with a quote, as OWASP advises.
func CsvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// CsvRow applies csvSafe to every field of a row.
func CsvRow(fields ...string) []string {
	for i, f := range fields {
		fields[i] = CsvSafe(f)
	}
	return fields
}
