package identity

import (
	"strings"
	"testing"
)

// FuzzParsePolicy: any document either fails to parse or evaluates
// without panicking, and a pattern always matches itself.
func FuzzParsePolicy(f *testing.F) {
	f.Add(`{"Version":"1","Statement":[{"Effect":"Allow","Action":["ecs:Describe*"],"Resource":"*"}]}`, "ecs:DescribeNetworkInterfaces", "*")
	f.Add(`{"Version":"1","Statement":[{"Effect":"Deny","NotAction":"ecs:*","NotResource":["acs:ecs:*:*:eni/*"],"Condition":{"StringLike":{"acs:ResourceTag/a":"b*"}}}]}`, "ecs:DetachNetworkInterface", "acs:ecs:r:1:eni/eni-1")
	f.Add(`{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":["acs:ram::1234567890123456:root"]}}]}`, "sts:AssumeRole", "")
	f.Fuzz(func(t *testing.T, doc, action, resource string) {
		ctx := Context{"acs:resourcetag/a": {resource}, "sts:externalid": {action}}
		if p, err := ParsePolicy([]byte(doc)); err == nil {
			_ = p.Allows(action, resource, ctx)
		}
		if p, err := ParseTrustPolicy([]byte(doc)); err == nil {
			_ = p.Trusts(Principal{Account: DefaultAccount, Kind: KindRoleSession, Name: action, Session: resource}, ctx)
		}
		if !strings.ContainsAny(resource, "*?") && !glob(resource, resource) {
			t.Fatalf("%q does not match itself", resource)
		}
		if !glob("*", resource) || !glob("*"+resource, resource) || !glob(resource+"*", resource+action) {
			t.Fatalf("star patterns fail on %q", resource)
		}
	})
}
