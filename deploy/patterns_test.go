package deploy_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/eni-detach/eni-detach/internal/eventpattern"
)

var fixtureDir = filepath.Join(repoRoot, "eventschema", "testdata", "ecs")

// customRule is the name used here for the rule created on the custom bus
// from deploy/custom-request-pattern.json (it cannot be an fc3 trigger).
const customRule = "custom-request-rule"

// Where each single-event fixture must be delivered: the one rule (s.yaml
// trigger or the custom-bus rule) that matches it, or "" for none. Exactly
// one match matters: two matching rules would invoke the function twice.
var fixtureRoutes = map[string]string{
	"preemptible-interruption.json":        "ecs-preemptible",
	"statechange-stopping.json":            "ecs-stop",
	"statechange-stopped.json":             "ecs-stop",
	"maintenance-scheduled-near.json":      "ecs-system-maintenance",
	"maintenance-inquiring.json":           "ecs-system-maintenance",
	"maintenance-executing.json":           "ecs-system-maintenance",
	"maintenance-reboot-isolate-disk.json": "ecs-system-maintenance",
	"failure-executing.json":               "ecs-system-failure",
	"instance-failure-reboot.json":         "ecs-system-failure",
	// Delivered (a rule cannot compare notBefore with the clock), then
	// ignored by the function: "acting when it executes".
	"ignored-maintenance-scheduled-far.json":        "ecs-system-maintenance",
	"ignored-statechange-running.json":              "",
	"ignored-maintenance-executed.json":             "",
	"ignored-maintenance-isolate-error-disk.json":   "",
	"ignored-maintenance-reinit-error-disk.json":    "",
	"ignored-maintenance-clean-released-disks.json": "",
	"ignored-disk-event.json":                       "",
	"ignored-followup.json":                         "",
	"custom-request.json":                           customRule,
}

// batchFixtures hold several events as event-streaming delivers them.
var batchFixtures = []string{"batch-objects.json", "batch-strings.json"}

// rules returns every event pattern that can invoke the function: the
// eventbridge triggers of s.yaml by trigger name, plus the custom-bus rule.
func rules(t *testing.T) map[string]*eventpattern.Pattern {
	t.Helper()
	out := map[string]*eventpattern.Pattern{}
	for name, cfg := range eventBridgeTriggers(t, fc3Props(t, loadSYAML(t))) {
		p, err := eventpattern.Compile([]byte(cfg["eventRuleFilterPattern"].(string)))
		if err != nil {
			t.Fatalf("trigger %s: %v", name, err)
		}
		out[name] = p
	}
	b, err := os.ReadFile("custom-request-pattern.json")
	if err != nil {
		t.Fatal(err)
	}
	p, err := eventpattern.Compile(b)
	if err != nil {
		t.Fatalf("custom-request-pattern.json: %v", err)
	}
	out[customRule] = p
	return out
}

func matchingRules(t *testing.T, rs map[string]*eventpattern.Pattern, event []byte) []string {
	t.Helper()
	var names []string
	for name, p := range rs {
		ok, err := p.Match(event)
		if err != nil {
			t.Fatalf("rule %s: %v", name, err)
		}
		if ok {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFixturesRouteToTheirRule(t *testing.T) {
	rs := rules(t)
	for name, want := range fixtureRoutes {
		t.Run(name, func(t *testing.T) {
			got := matchingRules(t, rs, readFixture(t, name))
			var wantList []string
			if want != "" {
				wantList = []string{want}
			}
			if !slices.Equal(got, wantList) {
				t.Errorf("matched by %v, want %v", got, wantList)
			}
		})
	}
}

// Every rule in s.yaml must be exercised by some fixture, so a trigger added
// without a fixture (or with a typo that matches nothing) is noticed.
func TestEveryRuleHasAFixture(t *testing.T) {
	used := map[string]bool{}
	for _, r := range fixtureRoutes {
		used[r] = true
	}
	for name := range rules(t) {
		if !used[name] {
			t.Errorf("rule %s matches no fixture in fixtureRoutes", name)
		}
	}
}

// The follow-up events are kept off the custom rule by their type, not only
// by their source: EVENT_SOURCE may be set to anything, including a source
// under custom.eni-detach.
func TestFollowUpExcludedByTypeWhateverItsSource(t *testing.T) {
	rs := rules(t)
	var ev map[string]any
	if err := json.Unmarshal(readFixture(t, "ignored-followup.json"), &ev); err != nil {
		t.Fatal(err)
	}
	for _, typ := range []string{"Detached", "DetachPending", "DetachFailed"} {
		for _, src := range []string{"acs:fc:cn-hangzhou:1234567890123456:functions/eni-detach", "custom.eni-detach.followups"} {
			ev["type"], ev["source"] = "eni-detach:NetworkInterface:"+typ, src
			b, _ := json.Marshal(ev)
			if got := matchingRules(t, rs, b); len(got) != 0 {
				t.Errorf("follow-up %s from %s matched %v", typ, src, got)
			}
		}
	}
}

// Each element of a batch fixture is an acted-on event (an object, or a JSON
// string holding one) that exactly one rule matches.
func TestBatchFixtures(t *testing.T) {
	rs := rules(t)
	for _, name := range batchFixtures {
		t.Run(name, func(t *testing.T) {
			var elems []json.RawMessage
			if err := json.Unmarshal(readFixture(t, name), &elems); err != nil {
				t.Fatal(err)
			}
			if len(elems) != 2 {
				t.Fatalf("%d elements, want 2", len(elems))
			}
			wantStrings := strings.Contains(name, "strings")
			for i, el := range elems {
				ev := []byte(el)
				var s string
				if err := json.Unmarshal(el, &s); err == nil {
					ev = []byte(s)
				}
				if isString := el[0] == '"'; isString != wantStrings {
					t.Errorf("element %d: JSON string = %v, want %v", i, isString, wantStrings)
				}
				if got := matchingRules(t, rs, ev); len(got) != 1 {
					t.Errorf("element %d matched %v, want exactly one rule", i, got)
				}
				checkEnvelope(t, ev)
			}
		})
	}
}

var (
	uuidRE       = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	instanceIDRE = regexp.MustCompile(`^i-[0-9a-z]+$`)
	eniIDRE      = regexp.MustCompile(`^eni-[0-9a-z]+$`)
	// The two forms EventBridge is seen to use (see eventschema/testdata/ecs/README.md).
	publishTimeZ   = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)
	publishTimePRC = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}PRC$`)
)

// checkEnvelope asserts a fixture is a CloudEvent as EventBridge delivers it
// to FC, and returns it decoded.
func checkEnvelope(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var ev map[string]any
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"specversion", "id", "source", "type", "subject", "time", "datacontenttype",
		"aliyunaccountid", "aliyunoriginalaccountid", "aliyunregionid", "aliyuneventbusname",
		"aliyunpublishtime", "aliyunpublishaddr"} {
		if s, _ := ev[k].(string); s == "" {
			t.Errorf("%s: missing or not a non-empty string", k)
		}
	}
	if _, ok := ev["data"].(map[string]any); !ok {
		t.Error("data: not an object")
	}
	if ev["specversion"] != "1.0" {
		t.Errorf("specversion %v, want 1.0", ev["specversion"])
	}
	if ev["aliyunregionid"] != "cn-hangzhou" || ev["aliyunaccountid"] != "1234567890123456" {
		t.Errorf("region/account %v/%v, want cn-hangzhou/1234567890123456", ev["aliyunregionid"], ev["aliyunaccountid"])
	}
	pt, _ := ev["aliyunpublishtime"].(string)
	if !publishTimeZ.MatchString(pt) && !publishTimePRC.MatchString(pt) {
		t.Errorf("aliyunpublishtime %q is in neither observed form", pt)
	}
	if ev["source"] == "acs.ecs" {
		id, _ := ev["id"].(string)
		subject, _ := ev["subject"].(string)
		if !uuidRE.MatchString(id) {
			t.Errorf("id %v is not a UUID", ev["id"])
		}
		if ev["aliyuneventbusname"] != "default" {
			t.Errorf("aliyuneventbusname %v, want default for an ECS event", ev["aliyuneventbusname"])
		}
		if !strings.HasPrefix(subject, "acs:ecs:cn-hangzhou:1234567890123456:") {
			t.Errorf("subject %v is not an ECS ARN in the fixture account", ev["subject"])
		}
	}
	data, _ := ev["data"].(map[string]any)
	for _, k := range []string{"instanceId", "resourceId", "InstanceId"} {
		if id, ok := data[k].(string); ok && !instanceIDRE.MatchString(id) {
			t.Errorf("data.%s %q is not a lower-case instance id", k, id)
		}
	}
	for _, k := range []string{"networkInterfaceId", "NetworkInterfaceId"} {
		if id, ok := data[k].(string); ok && !eniIDRE.MatchString(id) {
			t.Errorf("data.%s %q is not a lower-case ENI id", k, id)
		}
	}
	return ev
}

func TestFixtureEnvelopes(t *testing.T) {
	forms := map[string]bool{}
	for name := range fixtureRoutes {
		t.Run(name, func(t *testing.T) {
			ev := checkEnvelope(t, readFixture(t, name))
			if pt, _ := ev["aliyunpublishtime"].(string); pt != "" {
				forms[pt[len(pt)-1:]] = true
			}
		})
	}
	// Both observed forms must be represented, so parsers are tested on both.
	if !forms["Z"] || !forms["C"] {
		t.Errorf("aliyunpublishtime forms used: %v, want both …Z and …PRC", forms)
	}
}

// The fixture directory holds exactly the fixtures the tests route, and the
// README lists each of them.
func TestFixtureDirectoryAndReadme(t *testing.T) {
	entries, err := os.ReadDir(fixtureDir)
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(fixtureDir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var jsonFiles []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".json") {
			jsonFiles = append(jsonFiles, e.Name())
		}
	}
	var want []string
	for name := range fixtureRoutes {
		want = append(want, name)
	}
	want = append(want, batchFixtures...)
	sort.Strings(want)
	if !slices.Equal(jsonFiles, want) {
		t.Errorf("fixtures on disk %v, want %v", jsonFiles, want)
	}
	for _, name := range want {
		if !strings.Contains(string(readme), "`"+name+"`") {
			t.Errorf("README.md does not list `%s`", name)
		}
	}
}
