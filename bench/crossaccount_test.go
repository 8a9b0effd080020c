package bench

import (
	"fmt"
	"testing"
	"time"

	"github.com/eni-detach/eni-detach/eventschema"
	"github.com/eni-detach/eni-detach/internal/ecsapi"
	ecsemu "github.com/eni-detach/eni-detach/internal/emulator/ecs"
	"github.com/eni-detach/eni-detach/internal/emulator/fcruntime"
	"github.com/eni-detach/eni-detach/internal/emulator/identity"
	stsemu "github.com/eni-detach/eni-detach/internal/emulator/sts"
)

// BenchmarkCrossAccountDetach: what acting in a member account adds to a
// detach. Each iteration detaches, one invocation each and with "Wait":
// false (so the figure is the calls, not the poll schedule): an ENI of
// the function's own account; an ENI of a member account the process has
// not assumed a role in yet (cold: one AssumeRole first); and another ENI
// of that member account (warm: the cached credentials). Reported: the
// medians of the three invocation durations (as FC measures them, from
// dispatch to answer), the added latency of the cross-account ones over
// the same-account one, and AssumeRole calls per cross-account invocation.
func BenchmarkCrossAccountDetach(b *testing.B) {
	ctx := b.Context()
	s, err := startStackWith(ctx, -1, false, func(s *stack) ([]string, error) {
		sts, err := stsemu.Start(s.ecs.Identity())
		if err != nil {
			return nil, err
		}
		s.sts = sts
		return []string{"TARGET_ROLE_ARN=acs:ram::{accountId}:role/eni-detach", "TARGET_ACCOUNTS=*", "STS_ENDPOINT=" + sts.URL()}, nil
	})
	if err != nil {
		b.Fatal(err)
	}
	defer s.close()
	var same, cold, warm []time.Duration
	invoke := func(account, eni, inst string) time.Duration {
		payload := fmt.Appendf(nil, `{"NetworkInterfaceId":%q,"InstanceId":%q,"Wait":false,"AccountId":%q}`, eni, inst, account)
		res, err := s.fc.Invoke(ctx, fcruntime.Invocation{Payload: payload, Credentials: s.newCreds()})
		if err != nil {
			b.Fatal(err)
		}
		if o, err := outcome(res); err != nil || o != eventschema.OutcomePending {
			b.Fatalf("%s: %s %v %s", eni, o, err, res.Body)
		}
		return res.Duration
	}
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		inst, own := s.attachedENIs(b, 1)
		member := fmt.Sprintf("3%015d", i)
		mInst, mENIs := s.memberENIs(b, member, 2)
		b.StartTimer()
		same = append(same, invoke(accountID, own[0], inst))
		cold = append(cold, invoke(member, mENIs[0], mInst))
		warm = append(warm, invoke(member, mENIs[1], mInst))
	}
	b.StopTimer()
	sp, cp, wp := quantile(same, 0.5), quantile(cold, 0.5), quantile(warm, 0.5)
	b.ReportMetric(ms(sp), "same-p50-ms")
	b.ReportMetric(ms(cp), "cross-cold-p50-ms")
	b.ReportMetric(ms(wp), "cross-warm-p50-ms")
	b.ReportMetric(ms(cp-sp), "added-cold-p50-ms")
	b.ReportMetric(ms(wp-sp), "added-warm-p50-ms")
	b.ReportMetric(float64(len(s.sts.Calls()))/float64(2*b.N), "assumeroles/cross-invocation")
}

// memberENIs adds a member account with the role the function assumes
// (trusting the function's role) and a Running instance with n InUse
// secondary ENIs in it.
func (s *stack) memberENIs(b *testing.B, account string, n int) (string, []string) {
	b.Helper()
	reg := s.ecs.Identity()
	role, err := identity.TrustingRole(account, "eni-detach", identity.RoleARN(reg.DefaultAccount(), identity.DefaultRoleName), "", ecsapi.RAMActions)
	if err != nil {
		b.Fatal(err)
	}
	if err := reg.AddRole(role); err != nil {
		b.Fatal(err)
	}
	inst := "i-member" + randomHex(5)
	if err := s.ecs.AddInstance(ecsemu.Instance{ID: inst, Account: account}); err != nil {
		b.Fatal(err)
	}
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("eni-%s%03d", inst[2:], i)
		if err := s.ecs.AddENI(ecsemu.ENI{ID: ids[i], InstanceID: inst, Account: account}); err != nil {
			b.Fatal(err)
		}
	}
	return inst, ids
}
