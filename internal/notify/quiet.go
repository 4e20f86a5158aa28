package notify

import (
	"errors"
	"fmt"
	"strings"
)

// ParseQuietHours reads quiet hours written "HH:MM-HH:MM" (22:00-07:00 spans midnight)
// and returns their start and end as minutes after midnight. Start and end must differ.
func ParseQuietHours(s string) (start, end int, err error) {
	from, to, ok := strings.Cut(strings.TrimSpace(s), "-")
	if !ok {
		return 0, 0, errors.New("quiet hours must be written HH:MM-HH:MM, such as 22:00-07:00")
	}
	if start, err = parseClock(from); err != nil {
		return 0, 0, err
	}
	if end, err = parseClock(to); err != nil {
		return 0, 0, err
	}
	if start == end {
		return 0, 0, errors.New("quiet hours must end at another time than they start")
	}
	return start, end, nil
}

// parseClock reads "HH:MM" (24-hour clock) as minutes after midnight.
func parseClock(s string) (int, error) {
	s = strings.TrimSpace(s)
	var h, m int
	if len(s) != 5 || s[2] != ':' {
		return 0, errors.New("a time of day must be written HH:MM, such as 07:00")
	}
	for i, c := range []byte(s) {
		if i != 2 && (c < '0' || c > '9') {
			return 0, errors.New("a time of day must be written HH:MM, such as 07:00")
		}
	}
	h = int(s[0]-'0')*10 + int(s[1]-'0')
	m = int(s[3]-'0')*10 + int(s[4]-'0')
	if h > 23 || m > 59 {
		return 0, errors.New("a time of day runs from 00:00 to 23:59")
	}
	return h*60 + m, nil
}

// FormatQuietHours writes quiet hours as ParseQuietHours reads them ("" for none).
func FormatQuietHours(start, end int) string {
	if start < 0 || end < 0 || start == end {
		return ""
	}
	return fmt.Sprintf("%02d:%02d-%02d:%02d", start/60, start%60, end/60, end%60)
}
