package config

import (
	"errors"
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

func TestCrossAccountValues(t *testing.T) {
	c, err := Load(env(map[string]string{
		EnvTargetRoleARN: "acs:ram::{accountId}:role/eni-detach", EnvTargetAccounts: " 3234567890123456, 2234567890123456,2234567890123456 ",
		EnvTargetRoleExternalID: "org-ext:1/a=b", EnvSTSEndpoint: "https://sts-vpc.cn-hangzhou.aliyuncs.com",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if !c.CrossAccount() || c.RoleARN("2234567890123456") != "acs:ram::2234567890123456:role/eni-detach" ||
		c.TargetAccounts.String() != "2234567890123456,3234567890123456" || c.TargetRoleExternalID != "org-ext:1/a=b" ||
		c.STSEndpoint.String() != "https://sts-vpc.cn-hangzhou.aliyuncs.com" {
		t.Fatalf("config %+v", c)
	}
	if !c.TargetAccounts.Allows("3234567890123456") || c.TargetAccounts.Allows("4234567890123456") || c.TargetAccounts.Allows("") {
		t.Fatal("Allows")
	}
	star, err := Load(env(map[string]string{EnvTargetRoleARN: "acs:ram::{accountId}:role/r", EnvTargetAccounts: "*"}))
	if err != nil || !star.TargetAccounts.Any || !star.TargetAccounts.Allows("4234567890123456") {
		t.Fatalf("* : %+v %v", star.TargetAccounts, err)
	}
	if none, _ := Load(env(nil)); none.CrossAccount() || none.TargetAccounts.Allows("2234567890123456") {
		t.Fatal("an empty environment allows other accounts")
	}
}

func TestCrossAccountProblems(t *testing.T) {
	const role = "acs:ram::{accountId}:role/eni-detach"
	for _, tc := range []struct {
		name    string
		env     map[string]string
		wantVar []string
	}{
		{"fixed account in the ARN", map[string]string{EnvTargetRoleARN: "acs:ram::2234567890123456:role/eni-detach", EnvTargetAccounts: "*"}, []string{EnvTargetRoleARN}},
		{"not a role", map[string]string{EnvTargetRoleARN: "acs:ram::{accountId}:user/eni-detach", EnvTargetAccounts: "*"}, []string{EnvTargetRoleARN}},
		{"role name with a space", map[string]string{EnvTargetRoleARN: "acs:ram::{accountId}:role/eni detach", EnvTargetAccounts: "*"}, []string{EnvTargetRoleARN}},
		{"short account", map[string]string{EnvTargetRoleARN: role, EnvTargetAccounts: "223456789012345"}, []string{EnvTargetAccounts}},
		{"empty entry", map[string]string{EnvTargetRoleARN: role, EnvTargetAccounts: "2234567890123456,,3234567890123456"}, []string{EnvTargetAccounts}},
		{"star in a list", map[string]string{EnvTargetRoleARN: role, EnvTargetAccounts: "2234567890123456,*"}, []string{EnvTargetAccounts}},
		{"external id of one character", map[string]string{EnvTargetRoleARN: role, EnvTargetAccounts: "*", EnvTargetRoleExternalID: "x"}, []string{EnvTargetRoleExternalID}},
		{"external id with a space", map[string]string{EnvTargetRoleARN: role, EnvTargetAccounts: "*", EnvTargetRoleExternalID: "a b"}, []string{EnvTargetRoleExternalID}},
		{"endpoint with a path", map[string]string{EnvTargetRoleARN: role, EnvTargetAccounts: "*", EnvSTSEndpoint: "https://sts.aliyuncs.com/x"}, []string{EnvSTSEndpoint}},
		{"accounts without a role", map[string]string{EnvTargetAccounts: "2234567890123456"}, []string{EnvTargetAccounts}},
		{"external id and endpoint without a role", map[string]string{EnvTargetRoleExternalID: "ext-1", EnvSTSEndpoint: "http://127.0.0.1:1"}, []string{EnvTargetRoleExternalID, EnvSTSEndpoint}},
		{"a role without accounts", map[string]string{EnvTargetRoleARN: role}, []string{EnvTargetAccounts}},
		// A rejected role ARN is reported once, not again for the
		// accounts that then lack a role.
		{"bad role, good accounts", map[string]string{EnvTargetRoleARN: "arn:aws:iam::1:role/x", EnvTargetAccounts: "2234567890123456"}, []string{EnvTargetRoleARN}},
		{"bad role, bad accounts", map[string]string{EnvTargetRoleARN: "arn:aws:iam::1:role/x", EnvTargetAccounts: "x"}, []string{EnvTargetRoleARN, EnvTargetAccounts}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(env(tc.env))
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("accepted: %v", err)
			}
			var got []string
			for _, p := range ce.Problems {
				got = append(got, p.Var)
			}
			if strings.Join(got, " ") != strings.Join(tc.wantVar, " ") {
				t.Fatalf("problems %+v, want %v", ce.Problems, tc.wantVar)
			}
		})
	}
}

// TestExternalIDIsNotLogged: the start-up line says whether an external id
// is set, never which.
func TestExternalIDIsNotLogged(t *testing.T) {
	c, err := Load(env(map[string]string{EnvTargetRoleARN: "acs:ram::{accountId}:role/r", EnvTargetAccounts: "*", EnvTargetRoleExternalID: "org-ext-value"}))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	lg := zerolog.New(&b)
	lg.Info().Object("config", c).Send()
	if strings.Contains(b.String(), "org-ext-value") || !strings.Contains(b.String(), `"target_role_external_id_set":true`) ||
		!strings.Contains(b.String(), `"target_accounts":"*"`) {
		t.Fatalf("log %s", b.String())
	}
}
