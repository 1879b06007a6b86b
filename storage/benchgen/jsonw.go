package benchgen

import (
	"fmt"
	"strconv"
	"time"
)

// rawJSON is a value already written as JSON.
type rawJSON []byte

// jsonObject writes an object from keys and values (string, int, int64,
// float64, bool, []string, time.Time as RFC 3339 in UTC, rawJSON). It is
// much cheaper than encoding/json on maps, for the millions of rows a
// generation writes.
func jsonObject(kv ...any) []byte {
	b := make([]byte, 0, 128)
	b = append(b, '{')
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, kv[i].(string))
		b = append(b, ':')
		b = appendJSON(b, kv[i+1])
	}
	return append(b, '}')
}

func appendJSON(b []byte, v any) []byte {
	switch x := v.(type) {
	case string:
		return appendString(b, x)
	case int:
		return strconv.AppendInt(b, int64(x), 10)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case float64:
		return strconv.AppendFloat(b, x, 'f', -1, 64)
	case bool:
		return strconv.AppendBool(b, x)
	case []string:
		b = append(b, '[')
		for i, s := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, s)
		}
		return append(b, ']')
	case time.Time:
		b = append(b, '"')
		b = x.UTC().AppendFormat(b, time.RFC3339Nano)
		return append(b, '"')
	case rawJSON:
		return append(b, x...)
	case []byte:
		return append(b, x...)
	}
	panic(fmt.Sprintf("benchgen: cannot write a %T as JSON", v))
}

// appendString writes s as a JSON string. Everything this package writes
// is printable ASCII and UTF-8 text; quotes, backslashes and control
// characters are escaped.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		default:
			b = append(b, `\u00`...)
			b = append(b, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
