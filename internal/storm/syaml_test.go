package storm

import (
	"maps"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestLoadFunction(t *testing.T) {
	fn, err := LoadFunction("testdata/s.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := Function{Name: "fixture-fn", Region: "cn-beijing", Memory: 256, Timeout: 90 * time.Second, InstanceConcurrency: 5,
		MaxAsyncRetries: 0, MaxEventAge: 120 * time.Second, Env: map[string]string{"EVENT_BUS_NAME": "storm-bus", "ENI_TAG_SELECTOR": "a=b,c"}}
	if !maps.Equal(fn.Env, want.Env) {
		t.Errorf("Env %v, want %v", fn.Env, want.Env)
	}
	fn.Env, want.Env = nil, nil
	if !reflect.DeepEqual(fn, want) {
		t.Errorf("LoadFunction = %+v, want %+v", fn, want)
	}
	if got := tagsFor("a=b,c"); !maps.Equal(got, map[string]string{"a": "b", "c": "any"}) {
		t.Errorf("tagsFor = %v", got)
	}
}

// What s.yaml leaves out takes FC's defaults; an unknown ${vars.x} is an
// error, not a literal.
func TestLoadFunctionDefaultsAndErrors(t *testing.T) {
	fn, err := LoadFunction("testdata/defaults.yaml")
	if err == nil || !strings.Contains(err.Error(), "${vars.missing}") {
		t.Errorf("unknown var: err = %v", err)
	}
	if fn.MaxAsyncRetries != 3 || fn.MaxEventAge != 24*time.Hour || fn.InstanceConcurrency != 1 {
		t.Errorf("FC defaults not applied: %+v", fn)
	}
	if _, err := LoadFunction("testdata/nonexistent.yaml"); err == nil {
		t.Error("a missing file loaded")
	}
}

// The project's own s.yaml is what the storm runs with: it must load,
// fully resolved.
func TestLoadProjectFunction(t *testing.T) {
	fn, err := LoadFunction("../../s.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if fn.Timeout <= 0 || fn.InstanceConcurrency < 1 || fn.Region == "" || fn.Env["EVENT_BUS_NAME"] == "" {
		t.Errorf("s.yaml: %+v", fn)
	}
	for k, v := range fn.Env {
		if strings.Contains(v, "${") {
			t.Errorf("%s=%q is not resolved", k, v)
		}
	}
}

func TestPlan(t *testing.T) {
	c := DefaultConfig("main", Function{})
	c.Instances, c.StoppingShare, c.Spread = 50, 0.3, 4*time.Second
	a, b := plan(c), plan(c)
	stopping := 0
	for i, in := range a {
		if in.id != b[i].id || in.offset != b[i].offset || in.stopping != b[i].stopping {
			t.Fatalf("the same seed drew two storms: %+v vs %+v", in, b[i])
		}
		if in.offset < 0 || in.offset >= c.Spread || (i > 0 && in.offset < a[i-1].offset) {
			t.Errorf("instance %d arrives at %v: out of order or outside the spread", i, in.offset)
		}
		if len(in.enis) != c.ENIsPerInstance {
			t.Errorf("%s has %d ENIs", in.id, len(in.enis))
		}
		if in.stopping {
			stopping++
		}
	}
	if a[0].offset != 0 {
		t.Errorf("the first event arrives at %v, want 0", a[0].offset)
	}
	if stopping != 15 {
		t.Errorf("%d stopping instances, want 15", stopping)
	}
	c.Seed++
	if d := plan(c); d[len(d)-1].offset == a[len(a)-1].offset && d[1].offset == a[1].offset {
		t.Error("another seed drew the same arrivals")
	}
}

func TestReportLine(t *testing.T) {
	r := &Report{ENIs: 600, Detached: 599, Lost: 1, Late: 2, Floor: 62 * time.Second, Took: 80600 * time.Millisecond,
		Calls: 1234, Throttled: 61, PeakRSS: 20 << 20}
	want := "storm: enis=600 detached=599 lost=1 late=2 floor_s=62.0 took_s=80.6 ratio=1.30 throttled_pct=4.9 calls=1234 peak_rss_mib=20.0"
	if got := r.Line(); got != want {
		t.Errorf("Line()\n got %s\nwant %s", got, want)
	}
}

func TestConfigValidate(t *testing.T) {
	good := DefaultConfig("main", Function{Timeout: time.Minute, InstanceConcurrency: 1})
	if err := good.validate(); err != nil {
		t.Fatal(err)
	}
	bad := good
	bad.Binary, bad.Instances, bad.Phase, bad.StoppingShare = "", 0, 2*time.Minute, 2
	err := bad.validate()
	for _, want := range []string{"Binary", "Instances", "Phase", "StoppingShare"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("validate() = %v, want it to name %s", err, want)
		}
	}
}
