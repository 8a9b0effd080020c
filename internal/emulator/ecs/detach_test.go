package ecs

import (
	"testing"
	"time"

	sdkecs "github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"

	"github.com/eni-detach/eni-detach/internal/testenv/fakeclock"
)

func describeOne(t *testing.T, c *sdkecs.Client, id string) sdkecs.NetworkInterfaceSet {
	t.Helper()
	resp, err := c.DescribeNetworkInterfaces(describeReq(func(r *sdkecs.DescribeNetworkInterfacesRequest) {
		r.NetworkInterfaceId = &[]string{id}
	}))
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.NetworkInterfaceSets.NetworkInterfaceSet) != 1 {
		t.Fatalf("describe %s: %d sets", id, len(resp.NetworkInterfaceSets.NetworkInterfaceSet))
	}
	return resp.NetworkInterfaceSets.NetworkInterfaceSet[0]
}

func TestDetachStateMachine(t *testing.T) {
	clock := fakeclock.New()
	s := startServer(t, WithClock(clock.Now), WithDetachDelay(10*time.Second))
	mustAddInstance(t, s, Instance{ID: "i-sm"})
	mustAddENI(t, s, ENI{ID: "eni-default", InstanceID: "i-sm"})
	mustAddENI(t, s, ENI{ID: "eni-slow", InstanceID: "i-sm", DetachDelay: 30 * time.Second})
	mustAddENI(t, s, ENI{ID: "eni-instant", InstanceID: "i-sm", DetachDelay: -1})
	c := newClient(t, s.Addr(), stsCreds)

	for _, id := range []string{"eni-default", "eni-slow", "eni-instant"} {
		if err := detach(c, id, "i-sm"); err != nil {
			t.Fatal(id, err)
		}
	}
	steps := []struct {
		advance time.Duration
		want    map[string]string
	}{
		{0, map[string]string{"eni-default": ENIDetaching, "eni-slow": ENIDetaching, "eni-instant": ENIAvailable}},
		{9 * time.Second, map[string]string{"eni-default": ENIDetaching, "eni-slow": ENIDetaching}},
		{time.Second, map[string]string{"eni-default": ENIAvailable, "eni-slow": ENIDetaching}},
		{20 * time.Second, map[string]string{"eni-slow": ENIAvailable}},
	}
	for i, st := range steps {
		clock.Advance(st.advance)
		for id, want := range st.want {
			got := describeOne(t, c, id)
			if got.Status != want {
				t.Fatalf("step %d: %s is %s, want %s", i, id, got.Status, want)
			}
			wantInstance := "i-sm"
			if want == ENIAvailable {
				wantInstance = ""
			}
			if got.InstanceId != wantInstance {
				t.Fatalf("step %d: %s InstanceId %q", i, id, got.InstanceId)
			}
		}
	}
	if e := eniStatus(t, s, "eni-default"); e.DetachCalls != 1 || e.InstanceID != "" {
		t.Fatalf("final %+v", e)
	}
	// Detached means detached: a further detach is refused on state.
	wantServerError(t, detach(c, "eni-default", "i-sm"), "InvalidOperation.InvalidEniState", 400)
}

func TestReissueOnDetachingDoesNotPostpone(t *testing.T) {
	clock := fakeclock.New()
	s := startServer(t, WithClock(clock.Now), WithDetachDelay(10*time.Second))
	mustAddInstance(t, s, Instance{ID: "i-re"})
	mustAddENI(t, s, ENI{ID: "eni-re", InstanceID: "i-re"})
	c := newClient(t, s.Addr(), stsCreds)
	if err := detach(c, "eni-re", "i-re"); err != nil {
		t.Fatal(err)
	}
	clock.Advance(6 * time.Second)
	if err := detach(c, "eni-re", "i-re"); err != nil {
		t.Fatal("re-issue on Detaching must succeed:", err)
	}
	clock.Advance(4 * time.Second)
	if e := eniStatus(t, s, "eni-re"); e.Status != ENIAvailable || e.DetachCalls != 2 {
		t.Fatalf("%+v", e)
	}
}

func TestStuckDetach(t *testing.T) {
	clock := fakeclock.New()
	s := startServer(t, WithClock(clock.Now), WithDetachDelay(5*time.Second))
	mustAddInstance(t, s, Instance{ID: "i-stuck"})
	mustAddENI(t, s, ENI{ID: "eni-stuck", InstanceID: "i-stuck", StuckReissues: 2})
	c := newClient(t, s.Addr(), stsCreds)

	status := func() string { return describeOne(t, c, "eni-stuck").Status }
	if err := detach(c, "eni-stuck", "i-stuck"); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Hour)
	if got := status(); got != ENIDetaching {
		t.Fatalf("after first detach and an hour: %s", got)
	}
	if err := detach(c, "eni-stuck", "i-stuck"); err != nil { // re-issue 1 of 2
		t.Fatal(err)
	}
	clock.Advance(time.Hour)
	if got := status(); got != ENIDetaching {
		t.Fatalf("after one re-issue: %s", got)
	}
	if err := detach(c, "eni-stuck", "i-stuck"); err != nil { // re-issue 2: unstuck, delay restarts
		t.Fatal(err)
	}
	clock.Advance(4 * time.Second)
	if got := status(); got != ENIDetaching {
		t.Fatalf("delay must restart at the unsticking call: %s", got)
	}
	clock.Advance(time.Second)
	if got := status(); got != ENIAvailable {
		t.Fatalf("after the delay: %s", got)
	}
	if e := eniStatus(t, s, "eni-stuck"); e.DetachCalls != 3 {
		t.Fatalf("DetachCalls %d", e.DetachCalls)
	}
}

func TestENIAddedDetachingIsStuckFromTheStart(t *testing.T) {
	clock := fakeclock.New()
	s := startServer(t, WithClock(clock.Now), WithDetachDelay(time.Second))
	mustAddInstance(t, s, Instance{ID: "i-pre"})
	mustAddENI(t, s, ENI{ID: "eni-pre", InstanceID: "i-pre", Status: ENIDetaching, StuckReissues: 1})
	c := newClient(t, s.Addr(), stsCreds)
	clock.Advance(time.Minute)
	if got := describeOne(t, c, "eni-pre").Status; got != ENIDetaching {
		t.Fatalf("%s", got)
	}
	if err := detach(c, "eni-pre", "i-pre"); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Second)
	if got := describeOne(t, c, "eni-pre").Status; got != ENIAvailable {
		t.Fatalf("%s", got)
	}
}

func TestScheduledTransitions(t *testing.T) {
	clock := fakeclock.New()
	s := startServer(t, WithClock(clock.Now), WithDetachDelay(time.Second))
	mustAddInstance(t, s, Instance{ID: "i-sched"})
	mustAddENI(t, s, ENI{ID: "eni-att", InstanceID: "i-sched", Status: ENIAttaching})
	c := newClient(t, s.Addr(), stsCreds)

	if err := s.ScheduleENIStatus("eni-att", ENIInUse, 3*time.Second); err != nil {
		t.Fatal(err)
	}
	wantServerError(t, detach(c, "eni-att", "i-sched"), "InvalidOperation.InvalidEniState", 400)
	clock.Advance(3 * time.Second)

	if err := s.SetInstanceStatus("i-sched", InstanceStopping); err != nil {
		t.Fatal(err)
	}
	if err := s.ScheduleInstanceStatus("i-sched", InstanceStopped, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	wantServerError(t, detach(c, "eni-att", "i-sched"), "InvalidOperation.InvalidEcsState", 400)
	clock.Advance(2 * time.Second)
	if in, _ := s.GetInstance("i-sched"); in.Status != InstanceStopped {
		t.Fatalf("instance %s", in.Status)
	}
	if err := detach(c, "eni-att", "i-sched"); err != nil {
		t.Fatal(err)
	}
	if err := s.ScheduleInstanceStatus("i-sched", "Exploded", 0); err == nil {
		t.Fatal("unknown status accepted")
	}
}

// Each condition the API page names, produced by state, not injection.
func TestDetachErrorCodes(t *testing.T) {
	setup := func(t *testing.T, s *Server) {
		t.Helper()
		mustAddInstance(t, s, Instance{ID: "i-run"})
		mustAddInstance(t, s, Instance{ID: "i-other"})
		mustAddInstance(t, s, Instance{ID: "i-stopping", Status: InstanceStopping})
		mustAddInstance(t, s, Instance{ID: "i-nohotplug", HotPlugUnsupported: true})
		mustAddInstance(t, s, Instance{ID: "i-stopped", Status: InstanceStopped, HotPlugUnsupported: true})
		mustAddInstance(t, s, Instance{ID: "i-bj", Region: "cn-beijing"})
		for _, e := range []ENI{
			{ID: "eni-ok", InstanceID: "i-run"},
			{ID: "eni-primary", Type: ENIPrimary, InstanceID: "i-run"},
			{ID: "eni-managed", InstanceID: "i-run", ServiceManaged: true},
			{ID: "eni-linked", InstanceID: "i-run", Linked: true},
			{ID: "eni-trunk", Type: ENITrunk, InstanceID: "i-run"},
			{ID: "eni-member", Type: ENIMember, InstanceID: "i-run", TrunkID: "eni-trunk"},
			{ID: "eni-avail"},
			{ID: "eni-attaching", InstanceID: "i-run", Status: ENIAttaching},
			{ID: "eni-deleting", InstanceID: "i-run", Status: ENIDeleting},
			{ID: "eni-onother", InstanceID: "i-other"},
			{ID: "eni-stopping", InstanceID: "i-stopping"},
			{ID: "eni-hp", InstanceID: "i-run", TrafficMode: TrafficHighPerformance},
			{ID: "eni-hpstopped", InstanceID: "i-stopped", TrafficMode: TrafficHighPerformance},
			{ID: "eni-nohotplug", InstanceID: "i-nohotplug"},
			{ID: "eni-bj", Region: "cn-beijing", InstanceID: "i-bj"},
		} {
			mustAddENI(t, s, e)
		}
	}
	cases := []struct {
		name, eni, inst, trunk, region string
		wantCode                       string
		wantStatus                     int
	}{
		{name: "missing instance", eni: "eni-ok", wantCode: "MissingParameter", wantStatus: 400},
		{name: "missing ENI", inst: "i-run", wantCode: "MissingParameter", wantStatus: 400},
		{name: "malformed instance id", eni: "eni-ok", inst: "i-RUN", wantCode: "InvalidInstanceID.Malformed", wantStatus: 400},
		{name: "malformed instance and ENI id: instance first", eni: "bad", inst: "bad", wantCode: "InvalidInstanceID.Malformed", wantStatus: 400},
		{name: "malformed ENI id", eni: "eni_ok", inst: "i-run", wantCode: "InvalidParams.EniId", wantStatus: 400},
		{name: "unknown region", eni: "eni-ok", inst: "i-run", region: "mars-north-1", wantCode: "InvalidOperation.InvalidRegion", wantStatus: 400},
		{name: "unknown ENI", eni: "eni-nope", inst: "i-run", wantCode: "InvalidEniId.NotFound", wantStatus: 404},
		{name: "ENI in another region", eni: "eni-bj", inst: "i-run", wantCode: "InvalidEniId.NotFound", wantStatus: 404},
		{name: "unknown instance", eni: "eni-ok", inst: "i-nope", wantCode: "InvalidEcsId.NotFound", wantStatus: 404},
		{name: "primary", eni: "eni-primary", inst: "i-run", wantCode: "InvalidOperation.DetachPrimaryEniNotAllowed", wantStatus: 400},
		{name: "service managed", eni: "eni-managed", inst: "i-run", wantCode: "InvalidOperation.EniServiceManaged", wantStatus: 403},
		{name: "linked", eni: "eni-linked", inst: "i-run", wantCode: "InvalidOperation.EniLinked", wantStatus: 403},
		{name: "trunk with members", eni: "eni-trunk", inst: "i-run", wantCode: "InvalidOperation.HasMemberEniAttached", wantStatus: 403},
		{name: "member without its trunk", eni: "eni-member", inst: "i-run", wantCode: "InvalidParameter.EniNotBelongTrunk", wantStatus: 403},
		{name: "member with another trunk", eni: "eni-member", inst: "i-run", trunk: "eni-ok", wantCode: "InvalidParameter.EniNotBelongTrunk", wantStatus: 403},
		{name: "trunk id for a secondary ENI", eni: "eni-ok", inst: "i-run", trunk: "eni-trunk", wantCode: "InvalidParameter.EniNotBelongTrunk", wantStatus: 403},
		{name: "available", eni: "eni-avail", inst: "i-run", wantCode: "InvalidOperation.InvalidEniState", wantStatus: 400},
		{name: "attaching", eni: "eni-attaching", inst: "i-run", wantCode: "InvalidOperation.InvalidEniState", wantStatus: 400},
		{name: "deleting", eni: "eni-deleting", inst: "i-run", wantCode: "InvalidOperation.InvalidEniState", wantStatus: 400},
		{name: "attached elsewhere", eni: "eni-onother", inst: "i-run", wantCode: "InvalidParameter.EniNotBelongEcs", wantStatus: 400},
		{name: "instance stopping", eni: "eni-stopping", inst: "i-stopping", wantCode: "InvalidOperation.InvalidEcsState", wantStatus: 400},
		{name: "high performance on running", eni: "eni-hp", inst: "i-run", wantCode: "InvalidOperation.EniHotPlugNotSupported", wantStatus: 400},
		{name: "no hot plug while running", eni: "eni-nohotplug", inst: "i-nohotplug", wantCode: "InvalidOperation.HotPlugNotSupport", wantStatus: 403},
		{name: "high performance on stopped instance is fine", eni: "eni-hpstopped", inst: "i-stopped"},
		{name: "member with its trunk is fine", eni: "eni-member", inst: "i-run", trunk: "eni-trunk"},
		{name: "secondary is fine", eni: "eni-ok", inst: "i-run"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := startServer(t)
			setup(t, s)
			c := newClient(t, s.Addr(), stsCreds)
			req := detachReq(tc.eni, tc.inst)
			req.TrunkNetworkInstanceId = tc.trunk
			if tc.region != "" {
				req.RegionId = tc.region
			}
			_, err := c.DetachNetworkInterface(req)
			var before ENI
			if tc.eni != "" {
				before, _ = s.GetENI(tc.eni)
			}
			if tc.wantCode == "" {
				if err != nil {
					t.Fatal(err)
				}
				if before.Status != ENIDetaching || before.DetachCalls != 1 {
					t.Fatalf("after success: %+v", before)
				}
				return
			}
			wantServerError(t, err, tc.wantCode, tc.wantStatus)
			if before.DetachCalls != 0 || before.Status == ENIDetaching {
				t.Fatalf("a refused detach changed the ENI: %+v", before)
			}
		})
	}
}

func TestTrunkDetachAfterMembers(t *testing.T) {
	clock := fakeclock.New()
	s := startServer(t, WithClock(clock.Now), WithDetachDelay(time.Second))
	mustAddInstance(t, s, Instance{ID: "i-t"})
	mustAddENI(t, s, ENI{ID: "eni-trunk", Type: ENITrunk, InstanceID: "i-t"})
	mustAddENI(t, s, ENI{ID: "eni-m1", Type: ENIMember, InstanceID: "i-t", TrunkID: "eni-trunk"})
	c := newClient(t, s.Addr(), stsCreds)

	req := detachReq("eni-m1", "i-t")
	req.TrunkNetworkInstanceId = "eni-trunk"
	if _, err := c.DetachNetworkInterface(req); err != nil {
		t.Fatal(err)
	}
	wantServerError(t, detach(c, "eni-trunk", "i-t"), "InvalidOperation.HasMemberEniAttached", 403)
	clock.Advance(time.Second)
	m := describeOne(t, c, "eni-m1")
	if m.Status != ENIAvailable || m.Attachment.InstanceId != "" || m.Attachment.TrunkNetworkInterfaceId != "" {
		t.Fatalf("member after detach %+v", m)
	}
	if err := detach(c, "eni-trunk", "i-t"); err != nil {
		t.Fatal(err)
	}
}

func TestRemovedENIIsNotFound(t *testing.T) {
	s := startServer(t)
	mustAddInstance(t, s, Instance{ID: "i-rm"})
	mustAddENI(t, s, ENI{ID: "eni-rm", InstanceID: "i-rm"})
	if !s.RemoveENI("eni-rm") || s.RemoveENI("eni-rm") {
		t.Fatal("RemoveENI result")
	}
	wantServerError(t, detach(newClient(t, s.Addr(), stsCreds), "eni-rm", "i-rm"), "InvalidEniId.NotFound", 404)
}

func TestModelValidationAndCopies(t *testing.T) {
	s := New()
	defer s.Close()
	for _, e := range []ENI{{}, {ID: "eni-x", Type: "Tertiary"}, {ID: "eni-x", Status: "Gone"}, {ID: "eni-x", TrafficMode: "Fast"}} {
		if err := s.AddENI(e); err == nil {
			t.Fatalf("accepted %+v", e)
		}
	}
	tags := map[string]string{"a": "1"}
	mustAddENI(t, s, ENI{ID: "eni-copy", InstanceID: "i-c", Tags: tags})
	if err := s.AddENI(ENI{ID: "eni-copy"}); err == nil {
		t.Fatal("duplicate accepted")
	}
	tags["a"] = "changed"
	got := eniStatus(t, s, "eni-copy")
	if got.Tags["a"] != "1" || got.Status != ENIInUse || got.Type != ENISecondary || got.Region != DefaultRegion {
		t.Fatalf("%+v", got)
	}
	got.Tags["a"] = "mutated"
	if eniStatus(t, s, "eni-copy").Tags["a"] != "1" {
		t.Fatal("snapshot shares the tag map")
	}
	if err := s.UpdateENI("eni-copy", func(e *ENI) { e.Linked = true; e.Status = ENIAvailable }); err != nil {
		t.Fatal(err)
	}
	if e := eniStatus(t, s, "eni-copy"); !e.Linked || e.Status != ENIAvailable || e.InstanceID != "" {
		t.Fatalf("after update %+v", e)
	}
	if n := len(s.ENIs()); n != 1 {
		t.Fatalf("ENIs() has %d", n)
	}
}
