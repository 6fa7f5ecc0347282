// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package audit

import (
	"bytes"
	"slices"
	"unicode/utf8"
)

// sortKeys returns b, the output of json.Marshal, with every object's keys
// sorted as encoding/json sorts a map's, which is what decoding b into an
// interface and encoding it again gives. It copies numbers, literals and
// strings as they are, so it takes only the strings that the encoder
// would write back byte for byte (no escapes, no '<', '>' or '&', valid
// UTF-8 without U+2028 or U+2029) and objects without repeated keys; on
// anything else ok is false and the caller takes the slow way. Canonical
// runs inside the writer's transaction, where the decoding into maps cost
// more than the SQL.
func sortKeys(b []byte) (out []byte, ok bool) {
	out, rest, ok := sortValue(make([]byte, 0, len(b)), b)
	return out, ok && len(rest) == 0
}

func sortValue(out, b []byte) ([]byte, []byte, bool) {
	if len(b) == 0 {
		return out, b, false
	}
	switch c := b[0]; {
	case c == '{':
		return sortObject(out, b)
	case c == '[':
		out = append(out, '[')
		b = b[1:]
		if len(b) > 0 && b[0] == ']' {
			return append(out, ']'), b[1:], true
		}
		for {
			var ok bool
			if out, b, ok = sortValue(out, b); !ok || len(b) == 0 {
				return out, b, false
			}
			switch b[0] {
			case ',':
				out, b = append(out, ','), b[1:]
			case ']':
				return append(out, ']'), b[1:], true
			default:
				return out, b, false
			}
		}
	case c == '"':
		s, rest, ok := plainString(b)
		return append(out, s...), rest, ok
	case c == '-' || (c >= '0' && c <= '9'):
		n := 1
		for n < len(b) && bytes.IndexByte([]byte("0123456789.eE+-"), b[n]) >= 0 {
			n++
		}
		return append(out, b[:n]...), b[n:], true
	}
	for _, lit := range []string{"true", "false", "null"} {
		if bytes.HasPrefix(b, []byte(lit)) {
			return append(out, lit...), b[len(lit):], true
		}
	}
	return out, b, false
}

// plainString splits the string token at the start of b off the rest,
// if the encoder would write it back unchanged.
func plainString(b []byte) (tok, rest []byte, ok bool) {
	for i := 1; i < len(b); {
		c := b[i]
		switch {
		case c == '"':
			return b[:i+1], b[i+1:], true
		case c < 0x20 || c == '\\' || c == '<' || c == '>' || c == '&':
			return nil, b, false
		case c < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError || r == '\u2028' || r == '\u2029' {
				return nil, b, false
			}
			i += size
		}
	}
	return nil, b, false
}

func sortObject(out, b []byte) ([]byte, []byte, bool) {
	b = b[1:]
	if len(b) > 0 && b[0] == '}' {
		return append(out, '{', '}'), b[1:], true
	}
	type member struct{ key, value []byte }
	var ms []member
	for {
		key, rest, ok := plainString(b)
		if !ok || len(rest) == 0 || rest[0] != ':' {
			return out, b, false
		}
		var value []byte
		if value, b, ok = sortValue(nil, rest[1:]); !ok || len(b) == 0 {
			return out, b, false
		}
		ms = append(ms, member{key[1 : len(key)-1], value})
		if b[0] == '}' {
			b = b[1:]
			break
		}
		if b[0] != ',' {
			return out, b, false
		}
		b = b[1:]
	}
	slices.SortFunc(ms, func(x, y member) int { return bytes.Compare(x.key, y.key) })
	out = append(out, '{')
	for i, m := range ms {
		if i > 0 {
			if bytes.Equal(ms[i-1].key, m.key) {
				return out, b, false
			}
			out = append(out, ',')
		}
		out = append(out, '"')
		out = append(out, m.key...)
		out = append(out, '"', ':')
		out = append(out, m.value...)
	}
	return append(out, '}'), b, true
}
