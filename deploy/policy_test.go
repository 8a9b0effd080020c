package deploy_test

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/eni-detach/eni-detach/internal/config"
	"github.com/eni-detach/eni-detach/internal/ecsapi"
	"github.com/eni-detach/eni-detach/internal/publish"
	"github.com/eni-detach/eni-detach/internal/stsapi"
)

var policyFiles = []string{"ram-policy.json", "ram-policy-tag-conditioned.json"}

// stringList is a RAM policy field that may be a string or a list of them.
type stringList []string

func (l *stringList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*l = stringList{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*l = many
	return nil
}

type policy struct {
	Version   string
	Statement []statement
}

type statement struct {
	Effect      string
	Action      stringList
	Resource    stringList
	Condition   map[string]map[string]stringList
	NotAction   any
	NotResource any
}

func loadPolicy(t *testing.T, name string) policy {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields() // a misspelt "Condtion" would silently widen the grant
	var p policy
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return p
}

// codeActions is every RAM action the code can call, as its packages declare.
func codeActions() []string {
	a := slices.Concat(ecsapi.RAMActions, publish.RAMActions)
	sort.Strings(a)
	return slices.Compact(a)
}

var (
	ecsARN = regexp.MustCompile(`^acs:ecs:([a-z0-9-]+|\*):([0-9]+|\*):(eni|instance)/\*$`)
	busARN = regexp.MustCompile(`^acs:eventbridge:([a-z0-9-]+|\*):([0-9]+|\*):eventbus/([A-Za-z0-9_.-]+)$`)
	// roleARN: a role name without wildcards, in one account or in any.
	roleARN = regexp.MustCompile(`^acs:ram::([0-9]{16}|\*):role/([A-Za-z0-9.@_-]+)$`)
)

// checkPolicy checks a policy grants exactly the code's actions, each on the
// narrowest resource it can be granted on. busName is EVENT_BUS_NAME.
func checkPolicy(p policy, busName string) []error {
	return checkPolicyGrants(p, busName, codeActions())
}

// checkPolicyGrants checks a policy grants exactly want, each action on
// the narrowest resource it can be granted on.
func checkPolicyGrants(p policy, busName string, want []string) []error {
	var errs []error
	fail := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if p.Version != "1" {
		fail("Version %q, want \"1\"", p.Version)
	}
	var granted []string
	for i, s := range p.Statement {
		at := fmt.Sprintf("Statement[%d]", i)
		if s.Effect != "Allow" {
			fail("%s: Effect %q, want Allow", at, s.Effect)
		}
		if s.NotAction != nil || s.NotResource != nil {
			fail("%s: NotAction/NotResource grant everything else", at)
		}
		if len(s.Action) == 0 || len(s.Resource) == 0 {
			fail("%s: empty Action or Resource", at)
		}
		for _, a := range s.Action {
			if strings.Contains(a, "*") {
				fail("%s: wildcard action %q", at, a)
			}
			granted = append(granted, a)
			for _, r := range s.Resource {
				if err := checkResource(a, r, busName); err != nil {
					fail("%s: %v", at, err)
				}
			}
		}
	}
	sort.Strings(granted)
	if granted = slices.Compact(granted); !slices.Equal(granted, want) {
		fail("actions %v, want exactly the code's %v", granted, want)
	}
	return errs
}

// checkResource says which resources an action may be granted on.
func checkResource(action, resource, busName string) error {
	switch {
	case strings.HasPrefix(action, "ecs:Describe"):
		// Describe* calls are not resource-scoped in RAM: "*" is the only
		// resource that grants them.
		if resource != "*" {
			return fmt.Errorf("%s on %q: a Describe action takes Resource \"*\"", action, resource)
		}
	case action == "ecs:DetachNetworkInterface":
		if !ecsARN.MatchString(resource) {
			return fmt.Errorf("%s on %q: want acs:ecs:{region}:{accountId}:eni/* or …:instance/*", action, resource)
		}
	case action == stsapi.RAMAction:
		m := roleARN.FindStringSubmatch(resource)
		if m == nil || m[2] != memberRoleName {
			return fmt.Errorf("%s on %q: want acs:ram::{accountId|*}:role/%s, the member accounts' role", action, resource, memberRoleName)
		}
	case action == "eventbridge:PutEvents":
		m := busARN.FindStringSubmatch(resource)
		if m == nil || m[3] != busName {
			return fmt.Errorf("%s on %q: want acs:eventbridge:{region}:{accountId}:eventbus/%s", action, resource, busName)
		}
	default:
		if resource == "*" {
			return fmt.Errorf("%s on \"*\": no rule for this action; scope it and teach this test", action)
		}
	}
	return nil
}

// checkTagCondition checks every grant of DetachNetworkInterface on ENIs is
// conditioned on the ENI_TAG_SELECTOR tag, and that ENIs are granted at all.
func checkTagCondition(p policy, key, value string) []error {
	var errs []error
	eniGrants := 0
	for i, s := range p.Statement {
		if !slices.Contains(s.Action, "ecs:DetachNetworkInterface") {
			continue
		}
		for _, r := range s.Resource {
			if !strings.HasSuffix(r, ":eni/*") {
				continue
			}
			eniGrants++
			got := s.Condition["StringEquals"]["acs:ResourceTag/"+key]
			if !slices.Equal(got, stringList{value}) {
				errs = append(errs, fmt.Errorf("Statement[%d]: DetachNetworkInterface on %s is not conditioned on StringEquals acs:ResourceTag/%s = %q (got %v)", i, r, key, value, s.Condition))
			}
		}
	}
	if eniGrants == 0 {
		errs = append(errs, fmt.Errorf("no statement grants DetachNetworkInterface on eni/*"))
	}
	return errs
}

func busName(t *testing.T) string {
	t.Helper()
	env := fc3Props(t, loadSYAML(t))["environmentVariables"].(map[string]any)
	return env["EVENT_BUS_NAME"].(string)
}

// selectorTag returns the single key=value of ENI_TAG_SELECTOR in s.yaml.
func selectorTag(t *testing.T) (string, string) {
	t.Helper()
	env := fc3Props(t, loadSYAML(t))["environmentVariables"].(map[string]any)
	sel, err := config.ParseTagSelector(env["ENI_TAG_SELECTOR"].(string))
	if err != nil || len(sel) != 1 || sel[0].AnyValue {
		t.Fatalf("ENI_TAG_SELECTOR %q: want exactly one key=value for the tag-conditioned policy (%v)", env["ENI_TAG_SELECTOR"], err)
	}
	return sel[0].Key, sel[0].Value
}

func TestPoliciesGrantExactlyTheCodesActions(t *testing.T) {
	if len(codeActions()) == 0 {
		t.Fatal("ecsapi.RAMActions and publish.RAMActions are empty")
	}
	bus := busName(t)
	for _, name := range policyFiles {
		t.Run(name, func(t *testing.T) {
			for _, err := range checkPolicy(loadPolicy(t, name), bus) {
				t.Error(err)
			}
		})
	}
}

func TestTagConditionedPolicyMatchesSelector(t *testing.T) {
	key, value := selectorTag(t)
	for _, err := range checkTagCondition(loadPolicy(t, "ram-policy-tag-conditioned.json"), key, value) {
		t.Error(err)
	}
	// The plain policy is the unconditioned one: the check must see that.
	if errs := checkTagCondition(loadPolicy(t, "ram-policy.json"), key, value); len(errs) == 0 {
		t.Error("ram-policy.json passes the tag-condition check, so the check proves nothing")
	}
}

func TestBrokenPolicyFailsChecks(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(p *policy)
		wantErr string
	}{
		{"wildcard action", func(p *policy) { p.Statement[1].Action = append(p.Statement[1].Action, "ecs:*") }, `wildcard action "ecs:*"`},
		{"extra action", func(p *policy) { p.Statement[0].Action = append(p.Statement[0].Action, "ecs:DescribeInstances") }, "want exactly the code's"},
		{"missing action", func(p *policy) { p.Statement = p.Statement[:len(p.Statement)-1] }, "want exactly the code's"},
		{"detach on everything", func(p *policy) { p.Statement[1].Resource = stringList{"*"} }, `DetachNetworkInterface on "*"`},
		{"detach on disks", func(p *policy) { p.Statement[1].Resource = stringList{"acs:ecs:*:*:disk/*"} }, "disk/*"},
		{"describe scoped to a resource", func(p *policy) { p.Statement[0].Resource = stringList{"acs:ecs:*:*:eni/*"} }, "takes Resource"},
		{"publish to another bus", func(p *policy) {
			p.Statement[len(p.Statement)-1].Resource = stringList{"acs:eventbridge:*:*:eventbus/default"}
		}, "eventbus/eni-detach"},
		{"publish to every bus", func(p *policy) { p.Statement[len(p.Statement)-1].Resource = stringList{"*"} }, "PutEvents on \"*\""},
		{"deny statement", func(p *policy) { p.Statement[0].Effect = "Deny" }, "Effect \"Deny\""},
		{"NotAction", func(p *policy) { p.Statement[0].NotAction = []any{"ecs:DeleteInstance"} }, "NotAction"},
		{"version", func(p *policy) { p.Version = "2" }, "Version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := loadPolicy(t, "ram-policy.json")
			tt.mutate(&p)
			for _, err := range checkPolicy(p, "eni-detach") {
				if strings.Contains(err.Error(), tt.wantErr) {
					return
				}
			}
			t.Errorf("no error containing %q; got %v", tt.wantErr, checkPolicy(p, "eni-detach"))
		})
	}
}

func TestBrokenTagConditionFails(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(p *policy)
	}{
		{"condition removed", func(p *policy) { p.Statement[1].Condition = nil }},
		{"other tag value", func(p *policy) {
			p.Statement[1].Condition["StringEquals"]["acs:ResourceTag/eni-detach"] = stringList{"yes"}
		}},
		{"eni granted again without condition", func(p *policy) {
			p.Statement[2].Resource = append(p.Statement[2].Resource, "acs:ecs:*:*:eni/*")
		}},
		{"no eni grant", func(p *policy) { p.Statement = slices.Delete(p.Statement, 1, 2) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := loadPolicy(t, "ram-policy-tag-conditioned.json")
			tt.mutate(&p)
			if errs := checkTagCondition(p, "eni-detach", "enabled"); len(errs) == 0 {
				t.Error("the broken policy passed")
			}
		})
	}
}
