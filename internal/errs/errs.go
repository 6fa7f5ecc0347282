// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

// Package errs holds the error kinds every domain package returns and the
// HTTP layers map to statuses: not found 404, conflict 409, forbidden 403,
// unauthenticated 401, invalid input 422.
package errs

import (
	"errors"
	"sort"
	"strings"
)

// The error kinds. Domain packages wrap them with what was not found or not
// allowed, in words a member can read: the message reaches the client.
var (
	ErrNotFound        = errors.New("not found")
	ErrConflict        = errors.New("conflict")
	ErrForbidden       = errors.New("forbidden")
	ErrUnauthenticated = errors.New("sign in first")
)

// ValidationError lists what is wrong with the fields of a request.
type ValidationError struct {
	Fields map[string]string
}

// Invalid returns a ValidationError for one field.
func Invalid(field, message string) *ValidationError {
	return &ValidationError{Fields: map[string]string{field: message}}
}

// Add records a problem with field, keeping the first one said.
func (v *ValidationError) Add(field, message string) {
	if v.Fields == nil {
		v.Fields = make(map[string]string)
	}
	if _, ok := v.Fields[field]; !ok {
		v.Fields[field] = message
	}
}

// Err returns v, or nil when no field was added, so a validator can end with
// `return v.Err()`.
func (v *ValidationError) Err() error {
	if v == nil || len(v.Fields) == 0 {
		return nil
	}
	return v
}

func (v *ValidationError) Error() string {
	keys := make([]string, 0, len(v.Fields))
	for k := range v.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(k + ": " + v.Fields[k])
	}
	return b.String()
}
