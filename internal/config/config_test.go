package config

import (
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/rs/zerolog"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadDefaults(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.DetachTimeout != 120*time.Second || c.RedetachAfter != 20*time.Second || c.DryRun || c.LogLevel != zerolog.InfoLevel ||
		c.ECSEndpoint != nil || c.EventBridgeEndpoint != nil || c.EventBusName != "" || len(c.TagSelector) != 0 {
		t.Fatalf("defaults wrong: %+v", c)
	}
}

func TestLoadValues(t *testing.T) {
	c, err := Load(env(map[string]string{
		EnvEventBusName: "ops-bus", EnvEventSource: "custom.src", EnvECSEndpoint: "http://127.0.0.1:8081",
		EnvEventBridgeEndpoint: "https://1.eventbridge.cn-hangzhou.aliyuncs.com/", EnvTagSelector: "team=sre, failover",
		EnvDetachTimeout: "90", EnvRedetachAfter: "1500ms", EnvDryRun: "TRUE", EnvLogLevel: "Debug",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.EventBusName != "ops-bus" || c.EventSource != "custom.src" || c.ECSEndpoint.String() != "http://127.0.0.1:8081" ||
		c.EventBridgeEndpoint.String() != "https://1.eventbridge.cn-hangzhou.aliyuncs.com" || c.DetachTimeout != 90*time.Second ||
		c.RedetachAfter != 1500*time.Millisecond || !c.DryRun || c.LogLevel != zerolog.DebugLevel {
		t.Fatalf("values wrong: %+v", c)
	}
	if c.TagSelector.String() != "failover,team=sre" {
		t.Fatalf("selector %q", c.TagSelector.String())
	}
}

func TestLoadCollectsEveryProblem(t *testing.T) {
	c, err := Load(env(map[string]string{
		EnvEventBusName: "bad bus!", EnvECSEndpoint: "ftp://x", EnvEventBridgeEndpoint: "http://h/path",
		EnvTagSelector: "a=,", EnvDetachTimeout: "soon", EnvRedetachAfter: "-1s", EnvDryRun: "maybe", EnvLogLevel: "loud",
	}))
	var ce *Error
	if !errors.As(err, &ce) || !errors.Is(err, ErrInvalidConfiguration) {
		t.Fatalf("want *Error, got %v", err)
	}
	want := []string{EnvEventBusName, EnvECSEndpoint, EnvEventBridgeEndpoint, EnvTagSelector, EnvDetachTimeout, EnvRedetachAfter, EnvDryRun, EnvLogLevel}
	if len(ce.Problems) != len(want) {
		t.Fatalf("problems %+v", ce.Problems)
	}
	for i, w := range want {
		if ce.Problems[i].Var != w || !strings.Contains(err.Error(), w) {
			t.Errorf("problem %d = %+v, want %s", i, ce.Problems[i], w)
		}
	}
	if !strings.HasPrefix(err.Error(), "InvalidConfiguration: ") {
		t.Errorf("message %q", err.Error())
	}
	if c.DetachTimeout != DefaultDetachTimeout {
		t.Errorf("a bad value must leave the default, got %v", c.DetachTimeout)
	}
}

func TestTagSelector(t *testing.T) {
	sel, err := ParseTagSelector("team=sre,failover")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		tags map[string]string
		want bool
	}{
		{map[string]string{"team": "sre", "failover": "yes"}, true},
		{map[string]string{"team": "sre", "failover": ""}, true},
		{map[string]string{"team": "dev", "failover": "yes"}, false},
		{map[string]string{"team": "sre"}, false},
		{nil, false},
	}
	for _, c := range cases {
		if got := sel.Matches(c.tags); got != c.want {
			t.Errorf("Matches(%v) = %v", c.tags, got)
		}
		if (sel.Missing(c.tags) == "") != c.want {
			t.Errorf("Missing(%v) = %q", c.tags, sel.Missing(c.tags))
		}
	}
	if !TagSelector(nil).Matches(nil) {
		t.Error("an empty selector must match everything")
	}
	for _, bad := range []string{"", ",", "=v", "a=1,a=2", "a="} {
		if _, err := ParseTagSelector(bad); err == nil {
			t.Errorf("ParseTagSelector(%q) accepted", bad)
		}
	}
}

func TestConfigLogFields(t *testing.T) {
	var b strings.Builder
	c, _ := Load(env(map[string]string{EnvEventBusName: "b"}))
	lg := zerolog.New(&b)
	lg.Info().Object("config", c).Send()
	for _, k := range []string{"event_bus_name", "detach_timeout_ms", "redetach_after_ms", "dry_run", "eni_tag_selector"} {
		if !strings.Contains(b.String(), k) {
			t.Errorf("config log lacks %s: %s", k, b.String())
		}
	}
}

// durationCase is one value of a duration variable: the field it yields
// (the default when refused) and a substring of the problem ("" = valid).
type durationCase struct {
	value   string
	want    time.Duration
	problem string
}

// testDurationVar loads each value of the variable name and checks the
// field and the one problem naming the variable; then that the start-up
// log of the defaults carries logged.
func testDurationVar(t *testing.T, name string, field func(Config) time.Duration, tests []durationCase, logged string) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.value, func(t *testing.T) {
			c, err := Load(env(map[string]string{name: tc.value}))
			if got := field(c); got != tc.want {
				t.Errorf("%s gives %v, want %v", name, got, tc.want)
			}
			if tc.problem == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			var ce *Error
			if !errors.As(err, &ce) || len(ce.Problems) != 1 || ce.Problems[0].Var != name ||
				!strings.Contains(ce.Problems[0].Problem, tc.problem) {
				t.Fatalf("want one %s problem mentioning %q, got %v", name, tc.problem, err)
			}
		})
	}
	var b strings.Builder
	lg := zerolog.New(&b)
	lg.Info().Object("config", Default()).Send()
	if !strings.Contains(b.String(), logged) {
		t.Errorf("config log lacks %s: %s", logged, b.String())
	}
}

// TestLoadMaintenanceLead: a duration from 0 (Executing events only) to
// 24h, default 10m; anything else names the variable and keeps the default.
func TestLoadMaintenanceLead(t *testing.T) {
	testDurationVar(t, EnvMaintenanceLead, func(c Config) time.Duration { return c.MaintenanceLead }, []durationCase{
		{"", 10 * time.Minute, ""},
		{"0", 0, ""},
		{"0s", 0, ""},
		{"5m", 5 * time.Minute, ""},
		{" 90 ", 90 * time.Second, ""},
		{"24h", 24 * time.Hour, ""},
		{"-1m", DefaultMaintenanceLead, "out of range"},
		{"24h1s", DefaultMaintenanceLead, "out of range"},
		{"soon", DefaultMaintenanceLead, "not a duration"},
	}, `"maintenance_lead_ms":600000`)
}

// TestLoadQuotaWindow: ECS's flow-control window, 1s to 1h, default 1m;
// anything else names the variable and keeps the default.
func TestLoadQuotaWindow(t *testing.T) {
	testDurationVar(t, EnvECSQuotaWindow, func(c Config) time.Duration { return c.QuotaWindow }, []durationCase{
		{"", time.Minute, ""},
		{"5s", 5 * time.Second, ""},
		{"60", time.Minute, ""},
		{"1h", time.Hour, ""},
		{"999ms", DefaultQuotaWindow, "out of range"},
		{"0", DefaultQuotaWindow, "out of range"},
		{"61m", DefaultQuotaWindow, "out of range"},
		{"a minute", DefaultQuotaWindow, "not a duration"},
	}, `"ecs_quota_window_ms":60000`)
}

// TestRejectedValuesAreLoggedAsRejected: the start-up log shows a rejected
// variable's raw value, quoted, under "rejected", and not the default its
// field kept (a rejected ENI_TAG_SELECTOR must not read as "no selector").
func TestRejectedValuesAreLoggedAsRejected(t *testing.T) {
	long := strings.Repeat("é", maxLoggedValue)
	c, err := Load(env(map[string]string{
		EnvEventBusName: "ops", EnvDetachTimeout: "abc", EnvTagSelector: "=x", EnvDryRun: "yes\tplease", EnvEventSource: long,
	}))
	if err == nil {
		t.Fatal("no error")
	}
	logged := func(c Config) map[string]any {
		var b strings.Builder
		lg := zerolog.New(&b)
		lg.Info().Object("config", c).Send()
		var line struct{ Config map[string]any }
		if err := json.Unmarshal([]byte(b.String()), &line); err != nil {
			t.Fatalf("%v: %s", err, b.String())
		}
		return line.Config
	}
	got := logged(c)
	for _, k := range []string{"detach_timeout_ms", "eni_tag_selector", "dry_run", "event_source"} {
		if v, ok := got[k]; ok {
			t.Errorf("rejected %s logged as %v", k, v)
		}
	}
	if got["event_bus_name"] != "ops" || got["redetach_after_ms"] != float64(DefaultRedetachAfter.Milliseconds()) {
		t.Errorf("accepted values not logged: %v", got)
	}
	rejected, _ := got["rejected"].(map[string]any)
	want := map[string]string{EnvDetachTimeout: `"abc"`, EnvTagSelector: `"=x"`, EnvDryRun: `"yes\tplease"`}
	for k, v := range want {
		if rejected[k] != v {
			t.Errorf("rejected[%s] = %v, want %s", k, rejected[k], v)
		}
	}
	src, _ := rejected[EnvEventSource].(string)
	if !strings.HasSuffix(src, `"…`) || len(src) > maxLoggedValue+len(`""…`) || !utf8.ValidString(src) {
		t.Errorf("a long value is logged whole or cut mid-character: %q", src)
	}
	if len(rejected) != len(want)+1 {
		t.Errorf("rejected %v", rejected)
	}
	if _, ok := logged(Default())["rejected"]; ok {
		t.Error("a valid configuration logs a rejected object")
	}
}

// TestEveryVariableOnce: the table names each variable once, and each row
// logs its value.
func TestEveryVariableOnce(t *testing.T) {
	seen := map[string]bool{}
	for _, v := range variables {
		if seen[v.name] {
			t.Errorf("%s twice", v.name)
		}
		seen[v.name] = true
		var b strings.Builder
		lg := zerolog.New(&b)
		c := Default()
		c.ECSEndpoint, c.EventBridgeEndpoint = &url.URL{Scheme: "http", Host: "h"}, &url.URL{Scheme: "http", Host: "h"}
		c.STSEndpoint = &url.URL{Scheme: "http", Host: "h"}
		ev := lg.Info()
		v.log(c, ev)
		ev.Send()
		if b.String() == "{\"level\":\"info\"}\n" {
			t.Errorf("%s logs nothing", v.name)
		}
	}
}
