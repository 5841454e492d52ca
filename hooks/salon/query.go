package salon

import (
	"fmt"
	"net/url"
	"strconv"
	"unicode"
	"unicode/utf8"

	"github.com/pocketbase/pocketbase/apis"
)

// MaxPage bounds ?page= on the custom list routes: deep enough for any
// reader, small enough that (page-1)*perPage never overflows an OFFSET.
const MaxPage = 10000

// PageParams reads ?page= and ?perPage= (defaults when absent) and answers
// malformed or out-of-range values with a 400 that says what is allowed.
func PageParams(q url.Values, defaultPerPage, maxPerPage int) (page, perPage int, err error) {
	page, perPage = 1, defaultPerPage
	if v := q.Get("page"); v != "" {
		n, convErr := strconv.Atoi(v)
		if convErr != nil || n < 1 || n > MaxPage {
			return 0, 0, apis.NewBadRequestError(fmt.Sprintf("The page parameter must be a number from 1 to %d.", MaxPage), nil)
		}
		page = n
	}
	if v := q.Get("perPage"); v != "" {
		n, convErr := strconv.Atoi(v)
		if convErr != nil || n < 1 || n > maxPerPage {
			return 0, 0, apis.NewBadRequestError(fmt.Sprintf("The perPage parameter must be 1–%d.", maxPerPage), nil)
		}
		perPage = n
	}
	return page, perPage, nil
}

// CheckText refuses text a member could not have typed: invalid UTF-8 or
// control characters (a NUL ends a C string inside SQLite's FTS5 parser).
func CheckText(param, text string) error {
	if !utf8.ValidString(text) {
		return apis.NewBadRequestError(fmt.Sprintf("The %s parameter is not valid UTF-8.", param), nil)
	}
	for _, r := range text {
		if unicode.IsControl(r) && r != '\t' && r != '\n' {
			return apis.NewBadRequestError(fmt.Sprintf("The %s parameter cannot contain control characters.", param), nil)
		}
	}
	return nil
}
