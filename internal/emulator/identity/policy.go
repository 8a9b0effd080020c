package identity

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Policy is a parsed RAM policy document (version 1): a permission policy
// (Action on Resource), a role's trust policy (Action sts:AssumeRole for a
// Principal) or an AssumeRole session policy. Evaluation follows RAM: an
// explicit Deny wins, then an Allow, else the request is denied.
type Policy struct {
	Statements []Statement
}

// Statement is one statement of a policy.
type Statement struct {
	Effect string // Allow or Deny
	// Actions / NotActions and Resources / NotResources are glob patterns
	// ("ecs:Describe*", "acs:ecs:*:*:eni/*"); exactly one of each pair is
	// set in a permission policy.
	Actions, NotActions     []string
	Resources, NotResources []string
	// Principals (trust policies only), by kind: "RAM", "Service", "Federated".
	Principals map[string][]string
	// Conditions: operator → condition key → values (OR within a key,
	// AND across keys and operators).
	Conditions map[string]map[string][]string
}

// Context is the request context conditions are evaluated against:
// lower-cased condition key ("sts:externalid", "acs:resourcetag/team") →
// values.
type Context map[string][]string

// stringList is a policy field that may be a string or a list of them.
type stringList []string

func (l *stringList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*l = stringList{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("must be a string or a list of strings")
	}
	*l = many
	return nil
}

type rawStatement struct {
	Effect      string
	Action      stringList
	NotAction   stringList
	Resource    stringList
	NotResource stringList
	Principal   map[string]stringList
	Condition   map[string]map[string]stringList
}

type rawPolicy struct {
	Version   string
	Statement []rawStatement
}

// kind of document a parse expects.
type docKind int

const (
	permissionDoc docKind = iota
	trustDoc
)

// ParsePolicy parses a permission or session policy. Errors say what is
// wrong; STS answers them all with InvalidParameter.PolicyGrammar.
func ParsePolicy(doc []byte) (*Policy, error) { return parse(doc, permissionDoc) }

// ParseTrustPolicy parses a role's trust policy.
func ParseTrustPolicy(doc []byte) (*Policy, error) { return parse(doc, trustDoc) }

// MustParsePolicy is ParsePolicy for documents written in code.
func MustParsePolicy(doc string) *Policy {
	p, err := ParsePolicy([]byte(doc))
	if err != nil {
		panic(err)
	}
	return p
}

func parse(doc []byte, kind docKind) (*Policy, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.DisallowUnknownFields() // a misspelt "Condtion" must not silently widen a grant
	var raw rawPolicy
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	if dec.More() {
		return nil, errors.New("policy: trailing data after the document")
	}
	if raw.Version != "1" {
		return nil, fmt.Errorf("policy: Version %q, want \"1\"", raw.Version)
	}
	if len(raw.Statement) == 0 {
		return nil, errors.New("policy: no Statement")
	}
	p := &Policy{}
	for i, rs := range raw.Statement {
		st, err := parseStatement(rs, kind)
		if err != nil {
			return nil, fmt.Errorf("policy: Statement[%d]: %w", i, err)
		}
		p.Statements = append(p.Statements, st)
	}
	return p, nil
}

func parseStatement(rs rawStatement, kind docKind) (Statement, error) {
	st := Statement{Effect: rs.Effect, Actions: rs.Action, NotActions: rs.NotAction,
		Resources: rs.Resource, NotResources: rs.NotResource}
	if st.Effect != "Allow" && st.Effect != "Deny" {
		return st, fmt.Errorf("effect %q, want Allow or Deny", st.Effect)
	}
	if (len(st.Actions) == 0) == (len(st.NotActions) == 0) {
		return st, errors.New("exactly one of Action and NotAction is needed")
	}
	hasResource := len(st.Resources) > 0 || len(st.NotResources) > 0
	switch kind {
	case permissionDoc:
		if (len(st.Resources) == 0) == (len(st.NotResources) == 0) {
			return st, errors.New("exactly one of Resource and NotResource is needed")
		}
		if rs.Principal != nil {
			return st, errors.New("Principal belongs in trust policies only")
		}
	case trustDoc:
		if hasResource {
			return st, errors.New("a trust policy has no Resource")
		}
		if len(rs.Principal) == 0 {
			return st, errors.New("a trust policy statement needs a Principal")
		}
		st.Principals = map[string][]string{}
		for k, v := range rs.Principal {
			switch k {
			case "RAM", "Service", "Federated":
				st.Principals[k] = v
			default:
				return st, fmt.Errorf("unknown Principal kind %q", k)
			}
		}
	}
	if len(rs.Condition) > 0 {
		st.Conditions = map[string]map[string][]string{}
		for op, keys := range rs.Condition {
			if len(keys) == 0 {
				return st, fmt.Errorf("condition %s is empty", op)
			}
			st.Conditions[op] = map[string][]string{}
			for k, v := range keys {
				st.Conditions[op][strings.ToLower(k)] = v
			}
		}
	}
	return st, nil
}

// Union is what several policies attached to one identity (or role)
// allow together: any of them allowing, none denying.
func Union(ps ...*Policy) *Policy {
	out := &Policy{}
	for _, p := range ps {
		out.Statements = append(out.Statements, p.Statements...)
	}
	return out
}

// Allows reports whether the policy allows action on resource in ctx.
func (p *Policy) Allows(action, resource string, ctx Context) bool {
	return p.decide(func(st *Statement) bool {
		return matchesAction(st, action) && matchesResource(st, resource) && conditionsHold(st.Conditions, ctx)
	}) == "Allow"
}

// Trusts reports whether a trust policy lets caller assume the role, in
// ctx (which carries sts:ExternalId when the caller sent one).
func (p *Policy) Trusts(caller Principal, ctx Context) bool {
	return p.decide(func(st *Statement) bool {
		return matchesAction(st, "sts:AssumeRole") && trustsPrincipal(st.Principals, caller) && conditionsHold(st.Conditions, ctx)
	}) == "Allow"
}

// decide returns "Deny" when a matching statement denies, "Allow" when one
// allows and none denies, "" when none matches.
func (p *Policy) decide(matches func(*Statement) bool) string {
	out := ""
	for i := range p.Statements {
		st := &p.Statements[i]
		if !matches(st) {
			continue
		}
		if st.Effect == "Deny" {
			return "Deny"
		}
		out = "Allow"
	}
	return out
}

func matchesAction(st *Statement, action string) bool {
	if len(st.NotActions) > 0 {
		return !anyGlob(st.NotActions, action, true)
	}
	return anyGlob(st.Actions, action, true)
}

func matchesResource(st *Statement, resource string) bool {
	if len(st.NotResources) > 0 {
		return !anyGlob(st.NotResources, resource, false)
	}
	return anyGlob(st.Resources, resource, false)
}

func anyGlob(patterns []string, s string, fold bool) bool {
	for _, p := range patterns {
		if fold {
			if glob(strings.ToLower(p), strings.ToLower(s)) {
				return true
			}
		} else if glob(p, s) {
			return true
		}
	}
	return false
}

// glob matches s against pattern, where * is any run of characters and ?
// any one character.
func glob(pattern, s string) bool {
	px, sx := 0, 0
	starP, starS := -1, 0
	for sx < len(s) {
		switch {
		case px < len(pattern) && pattern[px] == '*':
			starP, starS = px, sx
			px++
		case px < len(pattern) && (pattern[px] == '?' || pattern[px] == s[sx]):
			px++
			sx++
		case starP >= 0:
			px = starP + 1
			starS++
			sx = starS
		default:
			return false
		}
	}
	for px < len(pattern) && pattern[px] == '*' {
		px++
	}
	return px == len(pattern)
}

// trustsPrincipal: "acs:ram::{account}:root" names every RAM identity of
// that account; "…:role/{name}" the sessions of that role; "…:user/{name}"
// that user. Role and user names are case-insensitive in RAM.
func trustsPrincipal(principals map[string][]string, caller Principal) bool {
	for _, arn := range principals["RAM"] {
		account, rest, ok := parseRAMArn(arn)
		if !ok || account != caller.Account {
			continue
		}
		switch {
		case rest == "root":
			return true
		case caller.Kind == KindRoleSession && strings.EqualFold(rest, "role/"+caller.Name),
			caller.Kind == KindUser && strings.EqualFold(rest, "user/"+caller.Name):
			return true
		}
	}
	return false
}

// parseRAMArn splits "acs:ram::{account}:{rest}".
func parseRAMArn(arn string) (account, rest string, ok bool) {
	tail, ok := strings.CutPrefix(arn, "acs:ram::")
	if !ok {
		return "", "", false
	}
	account, rest, ok = strings.Cut(tail, ":")
	return account, rest, ok && account != "" && rest != ""
}

// conditionsHold evaluates a statement's conditions. An operator the
// emulator does not evaluate counts as not met, so an Allow depending on
// it fails closed.
func conditionsHold(conds map[string]map[string][]string, ctx Context) bool {
	for op, keys := range conds {
		for key, want := range keys {
			got := ctx[key]
			if !conditionHolds(op, got, want) {
				return false
			}
		}
	}
	return true
}

func conditionHolds(op string, got, want []string) bool {
	anyMatch := func(match func(g, w string) bool) bool {
		for _, g := range got {
			for _, w := range want {
				if match(g, w) {
					return true
				}
			}
		}
		return false
	}
	switch op {
	case "StringEquals":
		return anyMatch(func(g, w string) bool { return g == w })
	case "StringNotEquals":
		return len(got) > 0 && !anyMatch(func(g, w string) bool { return g == w })
	case "StringEqualsIgnoreCase":
		return anyMatch(strings.EqualFold)
	case "StringLike":
		return anyMatch(func(g, w string) bool { return glob(w, g) })
	case "StringNotLike":
		return len(got) > 0 && !anyMatch(func(g, w string) bool { return glob(w, g) })
	case "Bool":
		return anyMatch(strings.EqualFold)
	}
	return false
}
