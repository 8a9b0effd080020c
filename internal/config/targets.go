package config

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/rs/zerolog"

	"github.com/eni-detach/eni-detach/eventschema"
)

// Cross-account variables (README, "One function for an organisation").
const (
	EnvTargetRoleARN        = "TARGET_ROLE_ARN"
	EnvTargetAccounts       = "TARGET_ACCOUNTS"
	EnvTargetRoleExternalID = "TARGET_ROLE_EXTERNAL_ID"
	EnvSTSEndpoint          = "STS_ENDPOINT"
)

// AccountPlaceholder is replaced in TARGET_ROLE_ARN by the member account.
const AccountPlaceholder = "{accountId}"

// TargetAccounts is TARGET_ACCOUNTS: the accounts the function may act in
// besides its own. The zero value allows none.
type TargetAccounts struct {
	// Any is "*": every account (logged as a warning at start-up).
	Any bool
	IDs []string // sorted, without duplicates
}

// Allows reports whether the function may act in account.
func (t TargetAccounts) Allows(account string) bool {
	return t.Any || slices.Contains(t.IDs, account)
}

// Set reports whether TARGET_ACCOUNTS names any account at all.
func (t TargetAccounts) Set() bool { return t.Any || len(t.IDs) > 0 }

func (t TargetAccounts) String() string {
	if t.Any {
		return "*"
	}
	return strings.Join(t.IDs, ",")
}

// ParseTargetAccounts parses TARGET_ACCOUNTS: "*", or account ids (16
// digits) separated by commas.
func ParseTargetAccounts(v string) (TargetAccounts, error) {
	if strings.TrimSpace(v) == "*" {
		return TargetAccounts{Any: true}, nil
	}
	var t TargetAccounts
	for _, part := range strings.Split(v, ",") {
		id := strings.TrimSpace(part)
		switch {
		case id == "":
			return TargetAccounts{}, errors.New("an empty entry: account ids separated by commas, or * for any account")
		case id == "*":
			return TargetAccounts{}, errors.New("* stands alone: it allows every account")
		case !eventschema.ValidAccountID(id):
			return TargetAccounts{}, fmt.Errorf("%q is not an account id (16 digits)", id)
		}
		t.IDs = append(t.IDs, id)
	}
	slices.Sort(t.IDs)
	t.IDs = slices.Compact(t.IDs)
	return t, nil
}

// RoleARN is TARGET_ROLE_ARN for account.
func (c Config) RoleARN(account string) string {
	return strings.ReplaceAll(c.TargetRoleARN, AccountPlaceholder, account)
}

// CrossAccount reports whether the function may act in other accounts at
// all: a role to assume and at least one account allowed.
func (c Config) CrossAccount() bool { return c.TargetRoleARN != "" && c.TargetAccounts.Set() }

// parseTargetRoleARN checks TARGET_ROLE_ARN: a RAM role ARN whose account
// is {accountId}, acs:ram::{accountId}:role/NAME.
func parseTargetRoleARN(c *Config, v string) error {
	rest, ok := strings.CutPrefix(v, "acs:ram::"+AccountPlaceholder+":role/")
	if !ok || rest == "" || len(rest) > 64 || !roleNameChars(rest) {
		return fmt.Errorf("%q is not a role ARN of the form acs:ram::%s:role/NAME (NAME: letters, digits, '.', '@', '_', '-')", v, AccountPlaceholder)
	}
	c.TargetRoleARN = v
	return nil
}

func roleNameChars(s string) bool {
	for i := 0; i < len(s); i++ {
		if !alnumOr(s[i], ".@_-") {
			return false
		}
	}
	return true
}

// alnumOr reports whether ch is an ASCII letter or digit, or one of extra.
func alnumOr(ch byte, extra string) bool {
	return ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || strings.IndexByte(extra, ch) >= 0
}

// parseExternalID checks TARGET_ROLE_EXTERNAL_ID by STS's rule for
// ExternalId: 2 to 1224 of letters, digits and =,.@:/-_.
func parseExternalID(c *Config, v string) error {
	if len(v) < 2 || len(v) > 1224 {
		return errors.New("must be 2 to 1224 characters (STS's rule for ExternalId)")
	}
	for i := 0; i < len(v); i++ {
		if ch := v[i]; !alnumOr(ch, "=,.@:/-_") {
			return fmt.Errorf("character %q is not allowed (letters, digits and =,.@:/-_)", ch)
		}
	}
	c.TargetRoleExternalID = v
	return nil
}

// crossAccountProblems are the cross-account variables that make no sense
// without the others: each would silently refuse every other account, so
// they are configuration errors rather than no-ops.
// A rejected TARGET_ROLE_ARN was reported already: the others are not
// reported again for lacking it.
func crossAccountProblems(c Config) []Problem {
	var out []Problem
	if _, bad := c.rejected[EnvTargetRoleARN]; bad {
		return nil
	}
	if c.TargetRoleARN == "" {
		for _, v := range []struct {
			name string
			set  bool
		}{{EnvTargetAccounts, c.TargetAccounts.Set()}, {EnvTargetRoleExternalID, c.TargetRoleExternalID != ""}, {EnvSTSEndpoint, c.STSEndpoint != nil}} {
			if v.set {
				out = append(out, Problem{Var: v.name, Problem: "is set but " + EnvTargetRoleARN + " is not: no role to act in other accounts with"})
			}
		}
	} else if !c.TargetAccounts.Set() {
		out = append(out, Problem{Var: EnvTargetAccounts, Problem: "is needed with " + EnvTargetRoleARN + ": the accounts the function may act in, or * for any"})
	}
	return out
}

var targetVariables = []variable{
	{EnvTargetRoleARN, parseTargetRoleARN, func(c Config, e *zerolog.Event) { e.Str("target_role_arn", c.TargetRoleARN) }},
	{EnvTargetAccounts, parsedVar(ParseTargetAccounts, func(c *Config) *TargetAccounts { return &c.TargetAccounts }),
		func(c Config, e *zerolog.Event) { e.Str("target_accounts", c.TargetAccounts.String()) }},
	// The external id is logged as set or not: it is not a secret, but it
	// is one of the two things a confused deputy would need.
	{EnvTargetRoleExternalID, parseExternalID, func(c Config, e *zerolog.Event) {
		e.Bool("target_role_external_id_set", c.TargetRoleExternalID != "")
	}},
	{EnvSTSEndpoint, parsedVar(ParseEndpoint, func(c *Config) **url.URL { return &c.STSEndpoint }), func(c Config, e *zerolog.Event) {
		if c.STSEndpoint != nil {
			e.Str("sts_endpoint", c.STSEndpoint.String())
		}
	}},
}
