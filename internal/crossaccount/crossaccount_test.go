package crossaccount

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eni-detach/eni-detach/internal/acssdk"
	"github.com/eni-detach/eni-detach/internal/ecsapi"
	ecsemu "github.com/eni-detach/eni-detach/internal/emulator/ecs"
	"github.com/eni-detach/eni-detach/internal/emulator/identity"
	stsemu "github.com/eni-detach/eni-detach/internal/emulator/sts"
	"github.com/eni-detach/eni-detach/internal/testenv"
)

func TestSessionName(t *testing.T) {
	for _, tc := range []struct{ id, want string }{
		{"1-66c5f8d2-15a7b2a1-4c8f6e5d1a2b", "eni-detach-1-66c5f8d2-15a7b2a1-4c8f6e5d1a2b"},
		{"c0a8bfa5-2d1b-4f0e-9d71-8c0d6a4b3e21", "eni-detach-c0a8bfa5-2d1b-4f0e-9d71-8c0d6a4b"},
		{"req id/with*odd:chars", "eni-detach-reqidwithoddchars"},
		{"", "eni-detach-process"},
		{"***", "eni-detach-process"},
	} {
		got := SessionName(tc.id)
		if got != tc.want || len(got) > 64 || len(got) < 2 || !validSessionName(got) {
			t.Errorf("SessionName(%q) = %q, want %q", tc.id, got, tc.want)
		}
	}
}

// TestSessionPolicyIsExactlyTheEngineActions: the session policy parses as
// RAM grammar, fits STS's 2048 characters, and allows exactly
// ecsapi.RAMActions.
func TestSessionPolicyIsExactlyTheEngineActions(t *testing.T) {
	doc := SessionPolicy()
	if len(doc) > stsemu.MaxPolicySize {
		t.Fatalf("%d characters", len(doc))
	}
	pol, err := identity.ParsePolicy([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	var granted []string
	for _, st := range pol.Statements {
		if st.Effect != "Allow" || len(st.NotActions) > 0 || !slices.Equal(st.Resources, []string{"*"}) {
			t.Fatalf("statement %+v", st)
		}
		granted = append(granted, st.Actions...)
	}
	want := slices.Clone(ecsapi.RAMActions)
	slices.Sort(want)
	slices.Sort(granted)
	if !slices.Equal(granted, want) {
		t.Fatalf("grants %v, want %v", granted, want)
	}
	for _, a := range []string{"ecs:DeleteNetworkInterface", "ecs:AttachNetworkInterface", "ecs:DescribeInstances", "eventbridge:PutEvents"} {
		if pol.Allows(a, "*", nil) {
			t.Errorf("%s allowed", a)
		}
	}
}

// fixture is a central account (the test credentials, a session of the
// function's role) and a member account with the role to assume and an
// instance with two ENIs.
type fixture struct {
	ecs   *testenv.ECS
	sts   *testenv.STS
	cache *Cache
	req   Request
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newFixture(t *testing.T, clk *clock) *fixture {
	t.Helper()
	var (
		eopts []ecsemu.Option
		sopts []stsemu.Option
	)
	if clk != nil {
		eopts = append(eopts, ecsemu.WithClock(clk.Now))
		sopts = append(sopts, stsemu.WithClock(clk.Now))
	}
	e := testenv.StartECS(t, eopts...)
	s := testenv.StartSTS(t, e, sopts...)
	role := testenv.AddMemberRole(t, e.Srv.Identity(), testenv.MemberAccount, "org-ext")
	must(t, e.Srv.AddInstance(ecsemu.Instance{ID: "i-mem1", Account: testenv.MemberAccount}))
	for _, id := range []string{"eni-mem1", "eni-mem2"} {
		must(t, e.Srv.AddENI(ecsemu.ENI{ID: id, Account: testenv.MemberAccount, InstanceID: "i-mem1"}))
	}
	c := NewCache(s.Client)
	if clk != nil {
		c.now = clk.Now
	}
	return &fixture{ecs: e, sts: s, cache: c,
		req: Request{Key: Key{RoleARN: role, ExternalID: "org-ext"}, Caller: e.Creds, Region: testenv.Region, RequestID: "req-1"}}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func withDeadline(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// TestSequentialInvocationsShareOneAssumeRole: N invocations one after the
// other, each with a minute left, make one AssumeRole.
func TestSequentialInvocationsShareOneAssumeRole(t *testing.T) {
	f := newFixture(t, nil)
	var first string
	for i := range 20 {
		a, err := f.cache.Credentials(withDeadline(t, time.Minute), f.req)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = a.Credentials.AccessKeyID
		} else if a.Credentials.AccessKeyID != first {
			t.Fatalf("invocation %d got other credentials", i)
		}
	}
	calls := f.sts.Srv.Calls()
	if len(calls) != 1 {
		t.Fatalf("%d AssumeRole calls for 20 sequential invocations", len(calls))
	}
	p := calls[0].Params
	if p["RoleSessionName"] != "eni-detach-req-1" || p["DurationSeconds"] != "900" || p["ExternalId"] != "org-ext" || p["Policy"] != SessionPolicy() {
		t.Fatalf("AssumeRole parameters %v", p)
	}
}

// TestConcurrentInvocationsMakeOneAssumeRole: 40 invocations at once, the
// STS answer slowed down so that they all wait for it: one AssumeRole.
func TestConcurrentInvocationsMakeOneAssumeRole(t *testing.T) {
	f := newFixture(t, nil)
	f.sts.Srv.InjectLatency("AssumeRole", 300*time.Millisecond, -1)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		keys = map[string]int{}
		errs []error
	)
	for range 40 {
		wg.Go(func() {
			a, err := f.cache.Credentials(withDeadline(t, 10*time.Second), f.req)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			keys[a.Credentials.AccessKeyID]++
		})
	}
	wg.Wait()
	if len(errs) != 0 || len(keys) != 1 {
		t.Fatalf("errors %v, credentials %v", errs, keys)
	}
	if n := len(f.sts.Srv.Calls()); n != 1 {
		t.Fatalf("%d AssumeRole calls for 40 concurrent invocations", n)
	}
}

// TestConcurrentFailuresShareOneAnswer: a refusal is shared by the
// invocations that waited for it (one call), is not cached (the next
// invocation asks again) and names the role.
func TestConcurrentFailuresShareOneAnswer(t *testing.T) {
	f := newFixture(t, nil)
	f.req.ExternalID = "wrong-ext"
	f.sts.Srv.InjectLatency("AssumeRole", 300*time.Millisecond, 1)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		codes = map[string]int{}
	)
	for range 40 {
		wg.Go(func() {
			_, err := f.cache.Credentials(withDeadline(t, 10*time.Second), f.req)
			var ae *acssdk.Error
			mu.Lock()
			defer mu.Unlock()
			if errors.As(err, &ae) && ae.Service == acssdk.ServiceSTS && ae.RequestID != "" &&
				strings.HasPrefix(ae.Message, "AssumeRole "+f.req.RoleARN+": ") {
				codes[ae.Code]++
			} else {
				codes["unexpected: "+err.Error()]++
			}
		})
	}
	wg.Wait()
	if codes["NoPermission"] != 40 || len(f.sts.Srv.Calls()) != 1 {
		t.Fatalf("answers %v after %d calls", codes, len(f.sts.Srv.Calls()))
	}
	if _, err := f.cache.Credentials(withDeadline(t, time.Minute), f.req); err == nil || len(f.sts.Srv.Calls()) != 2 {
		t.Fatalf("a refusal was cached: %v, %d calls", err, len(f.sts.Srv.Calls()))
	}
}

// TestRenewal: cached credentials are used while they have at least 3
// minutes and the invocation's remaining time left, renewed otherwise.
func TestRenewal(t *testing.T) {
	clk := &clock{t: time.Now()}
	f := newFixture(t, clk)
	get := func(left time.Duration) string {
		t.Helper()
		a, err := f.cache.Credentials(deadlineOnClock(clk, left), f.req)
		if err != nil {
			t.Fatal(err)
		}
		return a.Credentials.AccessKeyID
	}
	first := get(time.Minute)
	clk.Advance(10 * time.Minute) // 5 min of validity left
	if got := get(time.Minute); got != first || len(f.sts.Srv.Calls()) != 1 {
		t.Fatal("renewed with 5 minutes left for a 1-minute invocation")
	}
	second := get(6 * time.Minute)
	if second == first || len(f.sts.Srv.Calls()) != 2 {
		t.Fatal("not renewed with 5 minutes left for a 6-minute invocation")
	}
	clk.Advance(12*time.Minute + time.Second) // 2 min 59 s left of the second
	third := get(time.Second)
	if third == second || len(f.sts.Srv.Calls()) != 3 {
		t.Fatal("not renewed with less than 3 minutes left")
	}
	// An invocation with more time than fresh credentials have still
	// uses fresh ones rather than renewing on every call.
	if got := get(time.Hour); got != third || len(f.sts.Srv.Calls()) != 3 {
		t.Fatalf("%d calls: fresh credentials renewed for a long invocation", len(f.sts.Srv.Calls()))
	}
}

// deadlineOnClock is a context whose deadline is left after the fake
// clock's now, as the cache reads it.
func deadlineOnClock(clk *clock, left time.Duration) context.Context {
	return withFakeDeadline{Context: context.Background(), dl: clk.Now().Add(left)}
}

// withFakeDeadline reports a deadline on the fake clock without ever
// ending (the test drives time by hand).
type withFakeDeadline struct {
	context.Context
	dl time.Time
}

func (c withFakeDeadline) Deadline() (time.Time, bool) { return c.dl, true }

// TestWaiterGivesUpAtItsOwnDeadline: an invocation waiting for another's
// AssumeRole stops waiting at its own deadline.
func TestWaiterGivesUpAtItsOwnDeadline(t *testing.T) {
	f := newFixture(t, nil)
	f.sts.Srv.InjectHang("AssumeRole", 1)
	leaderDone := make(chan error, 1)
	go func() {
		_, err := f.cache.Credentials(withDeadline(t, 2*time.Second), f.req)
		leaderDone <- err
	}()
	for len(f.sts.Srv.Calls()) == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	start := time.Now()
	_, err := f.cache.Credentials(withDeadline(t, 200*time.Millisecond), f.req)
	var ae *acssdk.Error
	if !errors.As(err, &ae) || ae.Code != acssdk.CodeTimeout || time.Since(start) > 3*time.Second {
		t.Fatalf("waiter: %v after %s", err, time.Since(start))
	}
	if err := <-leaderDone; !errors.As(err, &ae) || ae.Code != acssdk.CodeTimeout {
		t.Fatalf("leader: %v", err)
	}
}

// TestClientActsWithTheMemberCredentialsOnly: describe and detach go to
// ECS with the assumed credentials, in the member account, after one
// AssumeRole; the function's own credentials never reach ECS.
func TestClientActsWithTheMemberCredentialsOnly(t *testing.T) {
	f := newFixture(t, nil)
	api := f.cache.Client(f.ecs.Factory, f.req)
	ctx := withDeadline(t, 10*time.Second)
	page, err := api.DescribeNetworkInterfaces(ctx, ecsapi.DescribeInput{RegionID: testenv.Region, InstanceID: "i-mem1", Type: "Secondary"})
	if err != nil || len(page.ENIs) != 2 {
		t.Fatalf("describe: %+v %v", page, err)
	}
	if _, err := api.DetachNetworkInterface(ctx, ecsapi.DetachInput{RegionID: testenv.Region, ENIID: "eni-mem1", InstanceID: "i-mem1"}); err != nil {
		t.Fatal(err)
	}
	issued := f.sts.Srv.Calls()[0].Issued
	for _, c := range f.ecs.Srv.Calls() {
		if c.AccessKeyID != issued || c.Account != testenv.MemberAccount || c.Code != "" {
			t.Fatalf("ECS call %s with %s in %q: %s", c.Action, c.AccessKeyID, c.Account, c.Code)
		}
	}
	if len(f.sts.Srv.Calls()) != 1 || len(f.ecs.Srv.Calls()) != 2 {
		t.Fatalf("%d STS, %d ECS calls", len(f.sts.Srv.Calls()), len(f.ecs.Srv.Calls()))
	}
}

// TestClientRefusedBySTSMakesNoECSCall: the call fails with STS's error,
// and ECS is not called.
func TestClientRefusedBySTSMakesNoECSCall(t *testing.T) {
	f := newFixture(t, nil)
	f.req.RoleARN = identity.RoleARN(testenv.MemberAccount, "not-there")
	_, err := f.cache.Client(f.ecs.Factory, f.req).DetachNetworkInterface(withDeadline(t, 10*time.Second),
		ecsapi.DetachInput{RegionID: testenv.Region, ENIID: "eni-mem1", InstanceID: "i-mem1"})
	var ae *ecsapi.Error
	if !errors.As(err, &ae) || ae.Service != acssdk.ServiceSTS || ae.Code != "EntityNotExist.Role" || ae.HTTPStatus != 404 {
		t.Fatalf("error %#v", err)
	}
	if n := len(f.ecs.Srv.Calls()); n != 0 {
		t.Fatalf("%d ECS calls after STS refused", n)
	}
}

// TestClientAssumesAgainWhenECSFindsTheCredentialsExpired: credentials
// that run out during an invocation are assumed again, once, and the call
// goes through.
func TestClientAssumesAgainWhenECSFindsTheCredentialsExpired(t *testing.T) {
	f := newFixture(t, nil)
	api := f.cache.Client(f.ecs.Factory, f.req)
	ctx := withDeadline(t, 10*time.Second)
	in := ecsapi.DescribeInput{RegionID: testenv.Region, IDs: []string{"eni-mem1"}}
	if _, err := api.DescribeNetworkInterfaces(ctx, in); err != nil {
		t.Fatal(err)
	}
	f.ecs.Srv.ExpireCredentials(f.sts.Srv.Calls()[0].Issued)
	if _, err := api.DescribeNetworkInterfaces(ctx, in); err != nil {
		t.Fatal(err)
	}
	codes := []string{}
	for _, c := range f.ecs.Srv.Calls() {
		codes = append(codes, c.Code)
	}
	if len(f.sts.Srv.Calls()) != 2 || strings.Join(codes, ",") != ",InvalidSecurityToken.Expired," {
		t.Fatalf("%d STS calls, ECS answers %q", len(f.sts.Srv.Calls()), codes)
	}
}

// FuzzSessionName: whatever the request id, the session name is one STS
// accepts (2–64 of [A-Za-z0-9.@_-]) and starts with SessionPrefix.
func FuzzSessionName(f *testing.F) {
	f.Add("1-66c5f8d2-15a7b2a1-4c8f6e5d1a2b")
	f.Add("")
	f.Add("é/ü*" + strings.Repeat("x", 100))
	f.Fuzz(func(t *testing.T, id string) {
		got := SessionName(id)
		if len(got) < 2 || len(got) > 64 || !validSessionName(got) || !strings.HasPrefix(got, SessionPrefix) {
			t.Fatalf("SessionName(%q) = %q", id, got)
		}
	})
}

func validSessionName(s string) bool {
	for i := 0; i < len(s); i++ {
		if !sessionChar(s[i]) {
			return false
		}
	}
	return true
}
