package deploy_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/eni-detach/eni-detach/internal/config"
	"github.com/eni-detach/eni-detach/internal/eventpattern"
)

// The fc3 schema accepts any object as a trigger config and any string as a
// runtime-specific value; these checks cover what this product needs of its
// s.yaml beyond that.

// Environment variables of the README (Configuration). Required ones must be set in s.yaml so a
// deploy never silently depends on a default; optional ones have a default
// that is right for a deployed function.
var (
	requiredEnv = []string{"EVENT_BUS_NAME", "ENI_TAG_SELECTOR", "DETACH_TIMEOUT", "REDETACH_AFTER", "DRY_RUN", "LOG_LEVEL", "MAINTENANCE_LEAD"}
	optionalEnv = []string{"EVENT_SOURCE", "ECS_ENDPOINT", "EVENTBRIDGE_ENDPOINT",
		"TARGET_ROLE_ARN", "TARGET_ACCOUNTS", "TARGET_ROLE_EXTERNAL_ID", "STS_ENDPOINT", "ECS_QUOTA_WINDOW"}
)

const (
	wantCode = "./dist/function.zip" // what build.sh writes
	// publishMargin is the least time the FC timeout must leave after
	// DETACH_TIMEOUT for the Describe calls, re-issued detaches and PutEvents.
	publishMargin = 30 * time.Second
	// maxPatternValues is EventBridge's limit on values in one pattern field
	// (ROS ALIYUN::EventBridge::Rule: "Each field in the pattern can contain
	// up to five values").
	maxPatternValues = 5
)

var triggerNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]{0,127}$`)

// checkProps returns every problem found in an fc3 function's props.
func checkProps(p map[string]any) []error {
	var errs []error
	fail := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }

	if v := p["runtime"]; v != "go1" {
		fail("runtime: %v, want go1", v)
	}
	if v := p["handler"]; v != "main" {
		fail("handler: %v, want main (the executable's name in the zip)", v)
	}
	if v := p["code"]; v != wantCode {
		fail("code: %v, want %s (build.sh's output)", v, wantCode)
	}

	env, _ := p["environmentVariables"].(map[string]any)
	detach, envErrs := checkEnv(env)
	errs = append(errs, envErrs...)

	timeout, ok := asInt(p["timeout"])
	switch {
	case !ok:
		fail("timeout: %#v is not an integer number of seconds", p["timeout"])
	case detach > 0 && time.Duration(timeout)*time.Second < detach+publishMargin:
		fail("timeout: %d s leaves less than %v after DETACH_TIMEOUT %v", timeout, publishMargin, detach)
	}
	if c, ok := asInt(p["instanceConcurrency"]); !ok || c < 2 {
		fail("instanceConcurrency: %#v, want an integer > 1 (the handler is concurrency-safe)", p["instanceConcurrency"])
	}
	if _, ok := asInt(p["memorySize"]); !ok {
		fail("memorySize: %#v is not an integer", p["memorySize"])
	}
	errs = append(errs, checkAsync(p["asyncInvokeConfig"], timeout)...)
	errs = append(errs, checkTriggers(p["triggers"])...)
	return errs
}

// checkEnv checks s.yaml's environment and returns DETACH_TIMEOUT. The values
// are read by config.Load, exactly as the function reads them, so a value
// the function would refuse (or read differently) fails here too; on top
// come what a deployment needs beyond a valid value.
func checkEnv(env map[string]any) (time.Duration, []error) {
	var errs []error
	fail := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if env == nil {
		return 0, []error{fmt.Errorf("environmentVariables: missing")}
	}
	str := map[string]string{}
	for k, v := range env {
		s, ok := v.(string)
		if !ok {
			fail("environmentVariables.%s: %#v is not a string", k, v)
			continue
		}
		if !slices.Contains(requiredEnv, k) && !slices.Contains(optionalEnv, k) {
			fail("environmentVariables.%s: not a variable of the README's Configuration table (a typo?)", k)
		}
		str[k] = s
	}
	for _, k := range requiredEnv {
		if _, ok := env[k]; !ok {
			fail("environmentVariables.%s: missing", k)
		}
	}
	// config.Load takes an empty value for unset: these two must not be.
	if s, ok := str["EVENT_SOURCE"]; ok && s == "" {
		fail("environmentVariables.EVENT_SOURCE: empty; leave it unset to get the function ARN")
	}
	if str["EVENT_BUS_NAME"] == "" {
		fail("environmentVariables.EVENT_BUS_NAME: empty: follow-up events would not be published")
	}
	c, err := config.Load(func(k string) string { return str[k] })
	var ce *config.Error
	if errors.As(err, &ce) {
		for _, p := range ce.Problems {
			fail("environmentVariables.%s: %s", p.Var, p.Problem)
		}
	}
	if c.RedetachAfter >= c.DetachTimeout {
		fail("environmentVariables.REDETACH_AFTER: %v is not shorter than DETACH_TIMEOUT %v: a stuck detach would never be re-issued", c.RedetachAfter, c.DetachTimeout)
	}
	// The role name the shipped policies grant (deploy/README.md).
	if c.TargetRoleARN != "" && !strings.HasSuffix(c.TargetRoleARN, ":role/"+memberRoleName) {
		fail("environmentVariables.TARGET_ROLE_ARN: %q is not the role the shipped policies are for (role/%s)", c.TargetRoleARN, memberRoleName)
	}
	return c.DetachTimeout, errs
}

func checkAsync(v any, timeout int) []error {
	cfg, ok := v.(map[string]any)
	if !ok {
		return []error{fmt.Errorf("asyncInvokeConfig: missing")}
	}
	var errs []error
	retries, ok1 := asInt(cfg["maxAsyncRetryAttempts"])
	age, ok2 := asInt(cfg["maxAsyncEventAgeInSeconds"])
	if !ok1 || retries < 1 || retries > 3 {
		errs = append(errs, fmt.Errorf("asyncInvokeConfig.maxAsyncRetryAttempts: %#v, want 1..3 (retries are idempotent; more only delays a stale failover)", cfg["maxAsyncRetryAttempts"]))
	}
	if !ok2 {
		errs = append(errs, fmt.Errorf("asyncInvokeConfig.maxAsyncEventAgeInSeconds: %#v is not an integer", cfg["maxAsyncEventAgeInSeconds"]))
	} else if ok1 && timeout > 0 && age < (retries+1)*timeout {
		errs = append(errs, fmt.Errorf("asyncInvokeConfig.maxAsyncEventAgeInSeconds: %d s cannot fit %d attempts of up to %d s: the last retries would be dropped", age, retries+1, timeout))
	}
	return errs
}

func checkTriggers(v any) []error {
	list, ok := v.([]any)
	if !ok {
		return []error{fmt.Errorf("triggers: missing")}
	}
	var errs []error
	names := map[string]bool{}
	httpCount := 0
	for i, e := range list {
		tr, _ := e.(map[string]any)
		name, _ := tr["triggerName"].(string)
		at := fmt.Sprintf("triggers[%d] (%s)", i, name)
		if !triggerNameRE.MatchString(name) {
			errs = append(errs, fmt.Errorf("%s: triggerName %q is not a valid FC trigger name", at, name))
		}
		if names[name] {
			errs = append(errs, fmt.Errorf("%s: duplicate triggerName", at))
		}
		names[name] = true
		cfg, _ := tr["triggerConfig"].(map[string]any)
		switch tr["triggerType"] {
		case "http":
			httpCount++
			errs = append(errs, checkHTTPTrigger(at, cfg)...)
		case "eventbridge":
			errs = append(errs, checkEventBridgeTrigger(at, cfg)...)
		default:
			errs = append(errs, fmt.Errorf("%s: triggerType %v is not one this function expects", at, tr["triggerType"]))
		}
	}
	if httpCount != 1 {
		errs = append(errs, fmt.Errorf("triggers: %d http triggers, want exactly one", httpCount))
	}
	return errs
}

func checkHTTPTrigger(at string, cfg map[string]any) []error {
	var errs []error
	if cfg["authType"] != "function" {
		errs = append(errs, fmt.Errorf("%s: authType %v, want function (signed requests only: this trigger detaches ENIs)", at, cfg["authType"]))
	}
	methods, _ := cfg["methods"].([]any)
	if !reflect.DeepEqual(methods, []any{"POST"}) {
		errs = append(errs, fmt.Errorf("%s: methods %v, want exactly [POST] (only POST may detach)", at, cfg["methods"]))
	}
	if v, ok := cfg["disableURLInternet"]; ok {
		if _, isBool := v.(bool); !isBool {
			errs = append(errs, fmt.Errorf("%s: disableURLInternet %#v is not a boolean", at, v))
		}
	}
	return errs
}

func checkEventBridgeTrigger(at string, cfg map[string]any) []error {
	var errs []error
	fail := func(format string, a ...any) { errs = append(errs, fmt.Errorf(at+": "+format, a...)) }
	if cfg["triggerEnable"] != true {
		fail("triggerEnable %v, want true", cfg["triggerEnable"])
	}
	if cfg["asyncInvocationType"] != true {
		fail("asyncInvocationType %v, want true (asynchronous, so asyncInvokeConfig applies)", cfg["asyncInvocationType"])
	}
	if get(cfg, "eventSourceConfig.eventSourceType") != "Default" {
		fail("eventSourceConfig.eventSourceType %v, want Default (EventBridge event bus)", get(cfg, "eventSourceConfig.eventSourceType"))
	}
	if _, ok := get(cfg, "eventSourceConfig.eventSourceParameters").(map[string]any); !ok {
		fail("eventSourceConfig.eventSourceParameters must be an object")
	}
	if get(cfg, "eventSinkConfig.deliveryOption.eventSchema") != "CloudEvents" {
		fail("eventSinkConfig.deliveryOption.eventSchema %v, want CloudEvents (the handler needs the envelope)", get(cfg, "eventSinkConfig.deliveryOption.eventSchema"))
	}
	if get(cfg, "runOptions.mode") != "event-driven" {
		fail("runOptions.mode %v, want event-driven", get(cfg, "runOptions.mode"))
	}
	pattern, ok := cfg["eventRuleFilterPattern"].(string)
	if !ok {
		fail("eventRuleFilterPattern %#v is not a JSON string", cfg["eventRuleFilterPattern"])
		return errs
	}
	for _, err := range checkPattern(pattern) {
		fail("eventRuleFilterPattern: %v", err)
	}
	return errs
}

// checkPattern checks an event pattern uses only what EventBridge supports
// here (eventpattern.Compile), names its source, and stays within limits.
func checkPattern(pattern string) []error {
	p, err := eventpattern.Compile([]byte(pattern))
	if err != nil {
		return []error{err}
	}
	var errs []error
	if !slices.Contains(p.Paths(), "source") {
		errs = append(errs, fmt.Errorf("does not pin source: the rule would match events of every service on the bus"))
	}
	var raw map[string]any
	if err := json.Unmarshal([]byte(pattern), &raw); err != nil {
		return append(errs, err)
	}
	walkPattern(raw, "", func(path string, leaf []any) {
		if len(leaf) > maxPatternValues {
			errs = append(errs, fmt.Errorf("%s: %d values, EventBridge allows %d per field", path, len(leaf), maxPatternValues))
		}
	}, func(path string) {
		errs = append(errs, fmt.Errorf("%s: a dotted key is a literal key to EventBridge; nest objects to reach data fields", path))
	})
	return errs
}

func walkPattern(obj map[string]any, prefix string, leaf func(string, []any), dotted func(string)) {
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		path := k
		if prefix != "" {
			path = prefix + "." + k
		}
		if strings.Contains(k, ".") {
			dotted(path)
		}
		switch v := obj[k].(type) {
		case map[string]any:
			walkPattern(v, path, leaf, dotted)
		case []any:
			leaf(path, v)
		}
	}
}

// get walks a dotted path of nested maps.
func get(m map[string]any, path string) any {
	var cur any = m
	for _, k := range strings.Split(path, ".") {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[k]
	}
	return cur
}

// asInt accepts the integer types a YAML decoder produces, nothing else:
// FC rejects a fractional or quoted timeout.
func asInt(v any) (int, bool) {
	switch n := v.(type) {
	case int:
		return n, true
	case int64:
		if n >= math.MinInt && n <= math.MaxInt {
			return int(n), true
		}
	case uint64:
		if n <= math.MaxInt {
			return int(n), true
		}
	}
	return 0, false
}

func TestSYAMLPassesChecks(t *testing.T) {
	props := fc3Props(t, loadSYAML(t))
	for _, err := range checkProps(props) {
		t.Error(err)
	}
}

// eventBridgeTriggers returns the eventbridge triggers of props by name.
func eventBridgeTriggers(t *testing.T, props map[string]any) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	list, _ := props["triggers"].([]any)
	for _, e := range list {
		tr := e.(map[string]any)
		if tr["triggerType"] == "eventbridge" {
			out[tr["triggerName"].(string)] = tr["triggerConfig"].(map[string]any)
		}
	}
	if len(out) == 0 {
		t.Fatal("s.yaml has no eventbridge trigger")
	}
	return out
}

func triggerByType(props map[string]any, typ string) map[string]any {
	list, _ := props["triggers"].([]any)
	for _, e := range list {
		tr := e.(map[string]any)
		if tr["triggerType"] == typ {
			return tr["triggerConfig"].(map[string]any)
		}
	}
	return nil
}

func firstEBTrigger(p map[string]any) map[string]any { return triggerByType(p, "eventbridge") }

// TestBrokenSYAMLFailsChecks proves each check can fail: every case breaks
// one thing in the real s.yaml and must be reported with its field.
func TestBrokenSYAMLFailsChecks(t *testing.T) {
	env := func(p map[string]any) map[string]any { return p["environmentVariables"].(map[string]any) }
	tests := []struct {
		name    string
		mutate  func(p map[string]any)
		wantErr string
	}{
		{"runtime go2", func(p map[string]any) { p["runtime"] = "go2" }, "runtime: go2"},
		{"handler index.handler", func(p map[string]any) { p["handler"] = "index.handler" }, "handler:"},
		{"code is the directory", func(p map[string]any) { p["code"] = "./dist" }, "code:"},
		{"timeout a string", func(p map[string]any) { p["timeout"] = "abc" }, "timeout: \"abc\" is not an integer"},
		{"timeout fractional", func(p map[string]any) { p["timeout"] = 1.5 }, "timeout: 1.5 is not an integer"},
		{"timeout missing", func(p map[string]any) { delete(p, "timeout") }, "timeout: <nil> is not an integer"},
		{"timeout below DETACH_TIMEOUT+30", func(p map[string]any) { p["timeout"] = 149 }, "timeout: 149 s leaves less than 30s"},
		{"DETACH_TIMEOUT raised past timeout", func(p map[string]any) { env(p)["DETACH_TIMEOUT"] = "160s" }, "after DETACH_TIMEOUT 2m40s"},
		{"DETACH_TIMEOUT not a duration", func(p map[string]any) { env(p)["DETACH_TIMEOUT"] = "soon" }, "DETACH_TIMEOUT: \"soon\" is not a duration"},
		{"DETACH_TIMEOUT zero", func(p map[string]any) { env(p)["DETACH_TIMEOUT"] = "0s" }, "DETACH_TIMEOUT: 0s is out of range"},
		{"REDETACH_AFTER not shorter", func(p map[string]any) { env(p)["REDETACH_AFTER"] = "120s" }, "REDETACH_AFTER: 2m0s is not shorter"},
		{"env var missing", func(p map[string]any) { delete(env(p), "LOG_LEVEL") }, "environmentVariables.LOG_LEVEL: missing"},
		{"env var misspelt", func(p map[string]any) { env(p)["DETACH_TIMOUT"] = "120s" }, "DETACH_TIMOUT: not a variable of the README"},
		{"env value not a string", func(p map[string]any) { env(p)["DRY_RUN"] = false }, "DRY_RUN: false is not a string"},
		{"MAINTENANCE_LEAD negative", func(p map[string]any) { env(p)["MAINTENANCE_LEAD"] = "-5m" }, "MAINTENANCE_LEAD: -5m is out of range"},
		{"MAINTENANCE_LEAD days", func(p map[string]any) { env(p)["MAINTENANCE_LEAD"] = "72h" }, "MAINTENANCE_LEAD: 72h is out of range"},
		{"DRY_RUN not a boolean", func(p map[string]any) { env(p)["DRY_RUN"] = "maybe" }, "DRY_RUN: \"maybe\" is not a boolean"},
		{"LOG_LEVEL unknown", func(p map[string]any) { env(p)["LOG_LEVEL"] = "verbose" }, "LOG_LEVEL: \"verbose\""},
		{"EVENT_SOURCE empty", func(p map[string]any) { env(p)["EVENT_SOURCE"] = "" }, "EVENT_SOURCE: empty"},
		{"EVENT_BUS_NAME empty", func(p map[string]any) { env(p)["EVENT_BUS_NAME"] = "" }, "EVENT_BUS_NAME: empty"},
		{"tag selector without key", func(p map[string]any) { env(p)["ENI_TAG_SELECTOR"] = "=x" }, "ENI_TAG_SELECTOR: \"=x\": term \"=x\" has no key"},
		{"target accounts without a role", func(p map[string]any) { env(p)["TARGET_ACCOUNTS"] = "2234567890123456" },
			"TARGET_ACCOUNTS: is set but TARGET_ROLE_ARN is not"},
		{"target role of another name", func(p map[string]any) {
			env(p)["TARGET_ROLE_ARN"] = "acs:ram::{accountId}:role/admin"
			env(p)["TARGET_ACCOUNTS"] = "*"
		}, "not the role the shipped policies are for"},
		{"target role with a fixed account", func(p map[string]any) {
			env(p)["TARGET_ROLE_ARN"] = "acs:ram::2234567890123456:role/eni-detach"
			env(p)["TARGET_ACCOUNTS"] = "*"
		}, "TARGET_ROLE_ARN: \"acs:ram::2234567890123456:role/eni-detach\" is not a role ARN"},
		{"instanceConcurrency 1", func(p map[string]any) { p["instanceConcurrency"] = 1 }, "instanceConcurrency:"},
		{"memorySize a string", func(p map[string]any) { p["memorySize"] = "128" }, "memorySize:"},
		{"no retries", func(p map[string]any) { get(p, "asyncInvokeConfig").(map[string]any)["maxAsyncRetryAttempts"] = 0 }, "maxAsyncRetryAttempts"},
		{"event age too short for the retries", func(p map[string]any) {
			get(p, "asyncInvokeConfig").(map[string]any)["maxAsyncEventAgeInSeconds"] = 300
		}, "300 s cannot fit 3 attempts"},
		{"http authType anonymous", func(p map[string]any) { triggerByType(p, "http")["authType"] = "anonymous" }, "authType anonymous"},
		{"http methods with GET", func(p map[string]any) { triggerByType(p, "http")["methods"] = []any{"POST", "GET"} }, "methods [POST GET]"},
		{"http methods GET only", func(p map[string]any) { triggerByType(p, "http")["methods"] = []any{"GET"} }, "want exactly [POST]"},
		{"http disableURLInternet a string", func(p map[string]any) { triggerByType(p, "http")["disableURLInternet"] = "false" }, "disableURLInternet"},
		{"no http trigger", func(p map[string]any) {
			p["triggers"] = slices.DeleteFunc(p["triggers"].([]any), func(e any) bool { return e.(map[string]any)["triggerType"] == "http" })
		}, "0 http triggers"},
		{"duplicate trigger name", func(p map[string]any) {
			p["triggers"] = append(p["triggers"].([]any), p["triggers"].([]any)[0])
		}, "duplicate triggerName"},
		{"unexpected trigger type", func(p map[string]any) {
			p["triggers"] = append(p["triggers"].([]any), map[string]any{"triggerName": "t", "triggerType": "timer", "triggerConfig": map[string]any{}})
		}, "triggerType timer"},
		{"pattern not JSON", func(p map[string]any) { firstEBTrigger(p)["eventRuleFilterPattern"] = `{"source":` }, "eventRuleFilterPattern: pattern:"},
		{"pattern not a string", func(p map[string]any) {
			firstEBTrigger(p)["eventRuleFilterPattern"] = map[string]any{"source": []any{"acs.ecs"}}
		}, "is not a JSON string"},
		{"pattern with $or", func(p map[string]any) {
			firstEBTrigger(p)["eventRuleFilterPattern"] = `{"source":["acs.ecs"],"$or":[{"type":["a"]},{"type":["b"]}]}`
		}, `"$or" is not supported`},
		{"pattern with wildcard", func(p map[string]any) {
			firstEBTrigger(p)["eventRuleFilterPattern"] = `{"source":["acs.ecs"],"type":[{"wildcard":"ecs:*"}]}`
		}, `unsupported operator "wildcard"`},
		{"pattern without source", func(p map[string]any) {
			firstEBTrigger(p)["eventRuleFilterPattern"] = `{"type":["ecs:Instance:StateChange"]}`
		}, "does not pin source"},
		{"pattern with a dotted key", func(p map[string]any) {
			firstEBTrigger(p)["eventRuleFilterPattern"] = `{"source":["acs.ecs"],"data.state":["Stopping"]}`
		}, "data.state: a dotted key"},
		{"pattern with too many values", func(p map[string]any) {
			firstEBTrigger(p)["eventRuleFilterPattern"] = `{"source":["a","b","c","d","e","f"]}`
		}, "6 values"},
		{"eventbridge synchronous", func(p map[string]any) { firstEBTrigger(p)["asyncInvocationType"] = false }, "asyncInvocationType false"},
		{"eventbridge disabled", func(p map[string]any) { firstEBTrigger(p)["triggerEnable"] = false }, "triggerEnable false"},
		{"eventbridge RawData", func(p map[string]any) {
			get(firstEBTrigger(p), "eventSinkConfig.deliveryOption").(map[string]any)["eventSchema"] = "RawData"
		}, "eventSchema RawData"},
		{"eventbridge streaming", func(p map[string]any) {
			get(firstEBTrigger(p), "runOptions").(map[string]any)["mode"] = "event-streaming"
		}, "runOptions.mode event-streaming"},
		{"eventbridge from MNS", func(p map[string]any) {
			get(firstEBTrigger(p), "eventSourceConfig").(map[string]any)["eventSourceType"] = "MNS"
		}, "eventSourceType MNS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			props := fc3Props(t, loadSYAML(t))
			tt.mutate(props)
			errs := checkProps(props)
			for _, err := range errs {
				if strings.Contains(err.Error(), tt.wantErr) {
					return
				}
			}
			t.Errorf("no error containing %q; got %v", tt.wantErr, errs)
		})
	}
}
