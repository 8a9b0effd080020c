package ecs

import (
	"net/http"
	"sync"
	"testing"
	"time"

	sdkecs "github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"

	"github.com/eni-detach/eni-detach/internal/creds"
	"github.com/eni-detach/eni-detach/internal/emulator/identity"
	"github.com/eni-detach/eni-detach/internal/testenv/fakeclock"
)

// A quota is the account's, not the caller's: two keys of one account,
// a long-term key and an STS token, draw on one count. Throttled calls
// carry ECS's code, message and a RequestId, and are counted apart.
func TestQuotaSharedByEveryClientOfAnAccount(t *testing.T) {
	s, clock := quotaFixture(t)
	s.SetQuota(actDescribe, 3, time.Minute)
	clients := []*sdkecs.Client{newClient(t, s.Addr(), stsCreds), newClient(t, s.Addr(), sts2), newClient(t, s.Addr(), akCreds)}
	for i, c := range clients {
		if _, err := c.DescribeNetworkInterfaces(describeReq(nil)); err != nil {
			t.Fatal(i, err)
		}
	}
	for i, c := range clients {
		_, err := c.DescribeNetworkInterfaces(describeReq(nil))
		se := wantServerError(t, err, "Throttling.User", http.StatusBadRequest)
		if se.Message() != "Request was denied due to user flow control." {
			t.Fatalf("client %d: message %q", i, se.Message())
		}
	}
	stats := s.QuotaStats()
	want := QuotaWindow{Account: identity.DefaultAccount, Region: DefaultRegion, Action: actDescribe,
		Start: clock.Now(), Window: time.Minute, Limit: 3, Accepted: 3, Throttled: 3}
	if len(stats) != 1 || stats[0] != want {
		t.Fatalf("stats %+v, want [%+v]", stats, want)
	}
	var quota int
	for _, c := range s.CallsFor(actDescribe) {
		if c.Fault == FaultQuota {
			quota++
			if c.Code != "Throttling.User" || c.HTTPStatus != http.StatusBadRequest || c.RequestID == "" {
				t.Errorf("throttled call logged as %+v", c)
			}
		}
	}
	if quota != 3 {
		t.Fatalf("%d calls logged as over quota, want 3", quota)
	}
}

// quotaFixture is faultFixture on a fake clock at the start of a minute.
func quotaFixture(t *testing.T) (*Server, *fakeclock.Clock) {
	t.Helper()
	clock := fakeclock.New()
	clock.Set(time.Now().Truncate(time.Minute))
	return faultFixture(t, WithClock(clock.Now)), clock
}

// Windows are fixed and aligned on the clock: a throttled call does not
// push the window on, and the next window starts from zero.
func TestQuotaFixedWindows(t *testing.T) {
	clock := fakeclock.New()
	start := time.Now().Truncate(10 * time.Second)
	clock.Set(start.Add(9 * time.Second))
	s := faultFixture(t, WithClock(clock.Now))
	s.SetQuota(actDetach, 1, 10*time.Second)
	c := newClient(t, s.Addr(), stsCreds)
	if err := detach(c, "eni-f", "i-f"); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		wantServerError(t, detach(c, "eni-f", "i-f"), "Throttling.User", http.StatusBadRequest)
	}
	clock.Advance(time.Second) // the next window, one second later
	if err := detach(c, "eni-f", "i-f"); err != nil {
		t.Fatal("next window:", err)
	}
	stats := s.QuotaStats()
	if len(stats) != 2 {
		t.Fatalf("want two windows, got %+v", stats)
	}
	if w := stats[0]; !w.Start.Equal(start) || w.Accepted != 1 || w.Throttled != 3 {
		t.Errorf("first window %+v", w)
	}
	if w := stats[1]; !w.Start.Equal(start.Add(10*time.Second)) || w.Accepted != 1 || w.Throttled != 0 {
		t.Errorf("second window %+v", w)
	}
}

// Each region has its own count; a quota for one account and region
// overrides the general one there only.
func TestQuotaScopes(t *testing.T) {
	s, _ := quotaFixture(t)
	s.AddRegion("cn-beijing")
	s.SetQuota(actDescribe, 1, time.Minute)
	if err := s.PutQuota(Quota{Action: actDescribe, Account: identity.DefaultAccount, Region: "cn-beijing", Limit: 2, Window: time.Minute}); err != nil {
		t.Fatal(err)
	}
	c := newClient(t, s.Addr(), stsCreds)
	describeIn := func(region string) error {
		_, err := c.DescribeNetworkInterfaces(describeReq(func(r *sdkecs.DescribeNetworkInterfacesRequest) { r.RegionId = region }))
		return err
	}
	if err := describeIn(DefaultRegion); err != nil {
		t.Fatal(err)
	}
	wantServerError(t, describeIn(DefaultRegion), "Throttling.User", http.StatusBadRequest)
	for i := range 2 {
		if err := describeIn("cn-beijing"); err != nil {
			t.Fatal("cn-beijing", i, err)
		}
	}
	wantServerError(t, describeIn("cn-beijing"), "Throttling.User", http.StatusBadRequest)
	if got := len(s.Quotas()); got != 2 {
		t.Fatalf("%d quotas, want 2: %+v", got, s.Quotas())
	}
	for _, bad := range []Quota{{Action: "RunInstances", Limit: 1, Window: time.Minute}, {Action: actDetach, Limit: 1}} {
		if err := s.PutQuota(bad); err == nil {
			t.Errorf("PutQuota(%+v) accepted", bad)
		}
	}
}

// Concurrent clients never get more than the limit through in a window.
func TestQuotaUnderConcurrency(t *testing.T) {
	s, _ := quotaFixture(t)
	const limit, callers = 7, 20
	s.SetQuota(actDescribe, limit, time.Minute)
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		ok, throt int
	)
	for i := range callers {
		c := newClient(t, s.Addr(), []creds.Credentials{stsCreds, sts2, akCreds}[i%3])
		wg.Go(func() {
			_, err := c.DescribeNetworkInterfaces(describeReq(nil))
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				ok++
			} else {
				throt++
			}
		})
	}
	wg.Wait()
	if ok != limit || throt != callers-limit {
		t.Fatalf("%d accepted, %d refused; want %d and %d", ok, throt, limit, callers-limit)
	}
	if st := s.QuotaStats(); len(st) != 1 || st[0].Accepted != limit || st[0].Throttled != callers-limit {
		t.Fatalf("stats %+v", st)
	}
}

// Two accounts have a count each: one account's spent quota does not
// throttle another's calls.
func TestQuotaPerAccount(t *testing.T) {
	s, _ := quotaFixture(t)
	member := creds.Credentials{AccessKeyID: "LTAImember0000000001", AccessKeySecret: "member-secret-1"}
	if err := s.Identity().AddKey(identity.Key{Credentials: member, Principal: identity.Principal{Account: MemberAccount}}); err != nil {
		t.Fatal(err)
	}
	s.SetQuota(actDescribe, 1, time.Minute)
	own, other := newClient(t, s.Addr(), stsCreds), newClient(t, s.Addr(), member)
	for _, c := range []*sdkecs.Client{own, other} {
		if _, err := c.DescribeNetworkInterfaces(describeReq(nil)); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []*sdkecs.Client{own, other} {
		_, err := c.DescribeNetworkInterfaces(describeReq(nil))
		wantServerError(t, err, "Throttling.User", http.StatusBadRequest)
	}
	stats := s.QuotaStats()
	if len(stats) != 2 || stats[0].Account == stats[1].Account {
		t.Fatalf("want one window per account, got %+v", stats)
	}
	for _, w := range stats {
		if w.Accepted != 1 || w.Throttled != 1 {
			t.Errorf("account %s: %+v", w.Account, w)
		}
	}
}
