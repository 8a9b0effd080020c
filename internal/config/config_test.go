package config

import (
	"errors"
	"strings"
	"testing"
	"time"

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

// TestLoadMaintenanceLead: a duration from 0 (Executing events only) to
// 24h, default 10m; anything else names the variable and keeps the default.
func TestLoadMaintenanceLead(t *testing.T) {
	tests := []struct {
		value   string
		want    time.Duration
		problem string // substring of the problem; "" = valid
	}{
		{"", 10 * time.Minute, ""},
		{"0", 0, ""},
		{"0s", 0, ""},
		{"5m", 5 * time.Minute, ""},
		{" 90 ", 90 * time.Second, ""},
		{"24h", 24 * time.Hour, ""},
		{"-1m", DefaultMaintenanceLead, "out of range"},
		{"24h1s", DefaultMaintenanceLead, "out of range"},
		{"soon", DefaultMaintenanceLead, "not a duration"},
	}
	for _, tc := range tests {
		t.Run(tc.value, func(t *testing.T) {
			c, err := Load(env(map[string]string{EnvMaintenanceLead: tc.value}))
			if c.MaintenanceLead != tc.want {
				t.Errorf("MaintenanceLead %v, want %v", c.MaintenanceLead, tc.want)
			}
			if tc.problem == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			var ce *Error
			if !errors.As(err, &ce) || len(ce.Problems) != 1 || ce.Problems[0].Var != EnvMaintenanceLead ||
				!strings.Contains(ce.Problems[0].Problem, tc.problem) {
				t.Fatalf("want one %s problem mentioning %q, got %v", EnvMaintenanceLead, tc.problem, err)
			}
		})
	}
	var b strings.Builder
	lg := zerolog.New(&b)
	lg.Info().Object("config", Default()).Send()
	if !strings.Contains(b.String(), `"maintenance_lead_ms":600000`) {
		t.Errorf("config log lacks the lead: %s", b.String())
	}
}
