// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
)

// The OpenAPI 3.1 document is written here by hand, route by route, apart
// from the registrations in api.go: TestOpenAPICoversRoutes fails when the
// two disagree.

type obj = map[string]any

func ref(name string) obj { return obj{"$ref": "#/components/schemas/" + name} }

func arrayOf(s obj) obj { return obj{"type": "array", "items": s} }

func object(required []string, props obj) obj {
	o := obj{"type": "object", "properties": props}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}

var (
	str     = obj{"type": "string"}
	integer = obj{"type": "integer", "format": "int64"}
	boolean = obj{"type": "boolean"}
	number  = obj{"type": "number"}
	anyObj  = obj{"type": "object"}
	when    = obj{"type": "string", "format": "date-time"}
)

// op describes one operation: summary, request body schema (nil: none),
// success status and response schema, and whether it needs a token.
func op(summary string, body obj, status string, resp obj, authed bool) obj {
	o := obj{"summary": summary, "responses": obj{
		status:    obj{"description": "success", "content": obj{"application/json": obj{"schema": resp}}},
		"400":     ref4("bad request: malformed JSON, wrong types, unknown fields"),
		"default": ref4("error"),
	}}
	if resp == nil {
		o["responses"].(obj)[status] = obj{"description": "success, no body"}
	}
	if body != nil {
		o["requestBody"] = obj{"required": true, "content": obj{"application/json": obj{"schema": body}}}
		o["responses"].(obj)["422"] = ref4("invalid fields; error.fields names each")
	}
	if authed {
		o["security"] = []obj{{"bearer": []string{}}}
		o["responses"].(obj)["401"] = ref4("no or bad bearer token")
		o["responses"].(obj)["403"] = ref4("not allowed (not a member, not a secretary, not the author)")
	}
	return o
}

func ref4(desc string) obj {
	return obj{"description": desc, "content": obj{"application/json": obj{"schema": ref("Error")}}}
}

var (
	proposalBody = object([]string{"title", "method", "closes_at"}, obj{
		"title": str, "body": str,
		"method":         obj{"type": "string", "enum": []string{"consent", "yesno", "choice", "approval", "score", "star", "borda", "irv", "stv", "schulze", "dot", "meeting"}},
		"options":        arrayOf(ref("Option")),
		"weighting":      obj{"type": "string", "enum": []string{"equal", "classes"}, "default": "equal"},
		"empty_class":    obj{"type": "string", "enum": []string{"redistribute", "abstain"}, "default": "redistribute"},
		"class_majority": boolean, "quorum_percent": integer, "quorum_count": integer, "class_quorum_percent": integer,
		"pass":   obj{"type": "string", "description": "majority (default), two_thirds, three_quarters, unanimous, special, or a fraction such as >1/2, 2/3; optionally followed by \" of electorate\""},
		"secret": boolean, "draft": boolean, "closes_at": when, "topic": obj{"type": "string", "description": "a short slug; topic delegations follow it; created on first use"},
		"max_choices": integer, "score_min": integer, "score_max": integer, "points": integer, "allowed_blocks": integer,
		"seats": integer, "rules": obj{"type": "string", "enum": []string{"scottish", "meek"}},
		"default_option": str, "majority": obj{"type": "object", "additionalProperties": integer},
	})
	ballotBody = obj{"type": "object", "description": "exactly one of choice, choices, scores, ranking", "properties": obj{
		"choice": str, "choices": arrayOf(str), "scores": obj{"type": "object", "additionalProperties": integer},
		"ranking": arrayOf(obj{"oneOf": []obj{str, arrayOf(str)}}),
	}}
)

func document() obj {
	paths := obj{}
	add := func(method, path string, o obj) {
		p, ok := paths[path].(obj)
		if !ok {
			p = obj{}
			paths[path] = p
		}
		p[strings.ToLower(method)] = o
	}
	add("GET", "/openapi.json", op("This document", nil, "200", anyObj, false))
	add("POST", "/accounts", op("Sign up; the first account is the instance's admin",
		object([]string{"handle", "name", "email", "password"}, obj{"handle": str, "name": str, "email": str, "password": str}),
		"201", object(nil, obj{"id": integer, "handle": str, "name": str, "is_admin": boolean}), false))
	add("POST", "/tokens", op("Sign in and get a bearer token",
		object([]string{"handle", "password"}, obj{"handle": str, "password": str}),
		"201", object(nil, obj{"token": str, "handle": str}), false))
	add("DELETE", "/tokens", op("Revoke the token sent", nil, "204", nil, true))
	add("GET", "/me", op("The caller's account", nil, "200", object(nil, obj{"id": integer, "handle": str, "name": str, "is_admin": boolean}), true))
	add("GET", "/coops", op("Every co-op, with the caller's class in each", nil, "200", object(nil, obj{"coops": arrayOf(anyObj)}), false))
	add("POST", "/coops", op("Found a co-op from a rules preset; the caller becomes its first member and secretary",
		object([]string{"slug", "name", "purpose", "preset"}, obj{"slug": str, "name": str, "purpose": str,
			"preset":        obj{"type": "string", "enum": []string{"somerset", "fairshares", "worker", "consumer", "open"}},
			"classes":       arrayOf(object([]string{"key"}, obj{"key": str, "name": str, "weight": integer, "votes": boolean})),
			"founder_class": str, "currency": str, "notice_days": integer, "proxy_limit": integer, "delegation": ref("DelegationRules")}),
		"201", ref("Coop"), true))
	add("GET", "/coops/{slug}", op("A co-op: name, purpose and classes (public)", nil, "200", ref("Coop"), false))
	add("POST", "/coops/{slug}/invitations", op("Create an invitation code (secretaries)",
		object([]string{"class"}, obj{"class": str, "uses": integer, "expires_at": when}),
		"201", object(nil, obj{"code": str, "url": str, "class": str, "uses": integer, "expires_at": when}), true))
	add("GET", "/coops/{slug}/invitations", op("The co-op's invitations (secretaries)", nil, "200", object(nil, obj{"invitations": arrayOf(anyObj)}), true))
	add("POST", "/coops/{slug}/members", op("Join with an invitation code", object([]string{"code"}, obj{"code": str}), "201", ref("Member"), true))
	add("GET", "/coops/{slug}/members", op("The members by class (members only; ?left=true includes those who left)", nil, "200",
		object(nil, obj{"members": arrayOf(ref("Member"))}), true))
	add("DELETE", "/coops/{slug}/members/me", op("Leave the co-op", nil, "204", nil, true))
	add("PATCH", "/coops/{slug}/members/{handle}", op("Change a member's class, state, secretary or treasurer role (secretaries)",
		object(nil, obj{"class": str, "state": obj{"type": "string", "enum": []string{"member", "suspended", "left"}}, "secretary": boolean, "treasurer": boolean}),
		"200", ref("Member"), true))
	add("POST", "/coops/{slug}/proposals", op("Propose; opens at once unless draft", proposalBody, "201", ref("Proposal"), true))
	add("GET", "/coops/{slug}/proposals", op("The co-op's proposals, newest first (?state=)", nil, "200", object(nil, obj{"proposals": arrayOf(ref("Proposal"))}), true))
	add("GET", "/coops/{slug}/audit", op("The co-op's audit log, newest first (?limit=, ?before=seq)", nil, "200",
		object(nil, obj{"events": arrayOf(object(nil, obj{"chain": integer, "seq": integer, "at": when, "actor": str, "action": str,
			"object": str, "payload": anyObj, "prev_hash": str, "hash": str}))}), true))
	add("GET", "/proposals/{id}", op("A proposal", nil, "200", ref("Proposal"), true))
	add("POST", "/proposals/{id}/publish", op("Open a draft (its author)", nil, "200", ref("Proposal"), true))
	add("POST", "/proposals/{id}/cancel", op("Cancel a draft or open proposal (author or secretary)", nil, "200", ref("Proposal"), true))
	add("POST", "/proposals/{id}/close", op("Close early and count (author or secretary)", nil, "200", ref("Result"), true))
	add("PUT", "/proposals/{id}/ballot", op("Cast or change the caller's ballot", ballotBody, "200",
		object(nil, obj{"proposal_id": integer, "ballot": ballotBody}), true))
	add("GET", "/proposals/{id}/ballot", op("The caller's ballot (a secret one only while open)", nil, "200",
		object(nil, obj{"proposal_id": integer, "ballot": ballotBody}), true))
	add("GET", "/proposals/{id}/ballots", op("Who voted, and what on open ballots; secret: who, after close", nil, "200",
		object(nil, obj{"proposal_id": integer, "secret": boolean, "ballots": arrayOf(object(nil, obj{"handle": str, "class": str, "cast_at": when, "ballot": ballotBody}))}), true))
	add("GET", "/proposals/{id}/export", op("A closed proposal's ballots as a ballot file that `opencoop tally` recounts to the stored result: ?format=json (default), blt or preflib (ranked methods); secret ballots carry no voter",
		nil, "200", anyObj, true))
	delegationPaths(add)
	meetingPaths(add)
	ledgerPaths(add)
	poolPaths(add)
	budgetPaths(add)
	sharesPaths(add)
	add("GET", "/proposals/{id}/result", op("The result of a closed proposal", nil, "200", ref("Result"), true))

	numMap := obj{"type": "object", "additionalProperties": number}
	return obj{
		"openapi": "3.1.0",
		"info": obj{"title": "opencoop API", "version": "1",
			"description": "Found and run an open co-operative. Amounts of votes are exact; decimals are rounded to 9 places. Errors are {\"error\":{\"code\",\"message\",\"fields\"?}}."},
		"servers": []obj{{"url": "/api/v1"}},
		"paths":   paths,
		"components": obj{
			"securitySchemes": obj{"bearer": obj{"type": "http", "scheme": "bearer"}},
			"schemas": obj{
				"Error": object([]string{"error"}, obj{"error": object([]string{"code", "message"}, obj{
					"code":    obj{"type": "string", "enum": []string{"bad_request", "unauthenticated", "forbidden", "not_found", "conflict", "invalid", "internal"}},
					"message": str, "fields": obj{"type": "object", "additionalProperties": str}})}),
				"Option": object([]string{"key"}, obj{"key": str, "label": str}),
				"Class":  object(nil, obj{"key": str, "name": str, "weight": integer, "votes": boolean}),
				"Coop": object(nil, obj{"slug": str, "name": str, "purpose": str, "preset": str, "currency": str,
					"notice_days": integer, "proxy_limit": integer, "delegation": ref("DelegationRules"), "created_at": when, "classes": arrayOf(ref("Class"))}),
				"DelegationRules": object(nil, obj{"enabled": boolean, "within_class_only": boolean,
					"cap": obj{"type": "integer", "description": "most members who may delegate to one trustee; 0 is no cap"}}),
				"Delegation": object(nil, obj{"from": str, "to": obj{"type": []string{"string", "null"}}, "scope": str, "topic": str, "proposal": integer, "created_at": when}),
				"Member": object(nil, obj{"handle": str, "name": str, "class": str, "state": str, "weight": integer,
					"secretary": boolean, "treasurer": boolean, "joined_at": when, "left_at": when}),
				"Proposal": object(nil, obj{"id": integer, "coop": str, "author": str, "title": str, "body": str, "method": str,
					"options": arrayOf(ref("Option")), "params": anyObj, "weighting": str, "empty_class": str, "class_majority": boolean,
					"quorum": anyObj, "pass": anyObj, "secret": boolean, "state": obj{"type": "string", "enum": []string{"draft", "open", "closed", "cancelled"}},
					"closes_at": when, "created_at": when, "opened_at": when, "closed_at": when, "classes": arrayOf(ref("Class")),
					"topic": str, "meeting_id": integer}),
				"Result": object(nil, obj{"proposal_id": integer, "state": str, "method": str,
					"outcome": obj{"type": "string", "enum": []string{"passed", "rejected", "not_quorate", "decided", "no_votes"}},
					"winners": arrayOf(str), "weighted": numMap, "support": number,
					"classes": obj{"type": "object", "additionalProperties": object(nil, obj{"weight": integer, "electorate": integer,
						"ballots": integer, "valid": integer, "counts": obj{"type": "object", "additionalProperties": integer}, "majority": boolean,
						"direct": integer, "delegated": integer, "delegated_counts": obj{"type": "object", "additionalProperties": integer}})},
					"direct_weight":    obj{"type": "integer", "description": "summed member weight of direct ballots (RULES.md 2.4)"},
					"delegated_weight": obj{"type": "integer", "description": "summed member weight of votes counted through delegation"},
					"participation":    object(nil, obj{"electorate": integer, "members": integer, "voted": integer, "voters": integer, "required": integer, "quorate": boolean}),
					"direct":           numMap, "delegated": numMap, "rule": str, "seed": str, "tie_broken": arrayOf(str),
					"rounds": arrayOf(anyObj), "pairwise": obj{"type": "object", "description": "schulze: pairwise[a][b] is the weighted number of ballots ranking a above b"},
					"paths": anyObj, "dropped": arrayOf(str), "extra": anyObj}),
			},
		},
	}
}

var openAPIJSON = sync.OnceValue(func() []byte {
	b, err := json.MarshalIndent(document(), "", "  ")
	if err != nil {
		panic(err) // programmer error: the document is static
	}
	return b
})

// OpenAPI returns the OpenAPI 3.1 document.
func OpenAPI() []byte { return openAPIJSON() }

func (h *handler) openAPI(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	_, err := w.Write(openAPIJSON())
	return err
}
