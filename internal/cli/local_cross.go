package cli

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/eni-detach/eni-detach/internal/config"
	"github.com/eni-detach/eni-detach/internal/ecsapi"
	ecsemu "github.com/eni-detach/eni-detach/internal/emulator/ecs"
	"github.com/eni-detach/eni-detach/internal/emulator/identity"
	stsemu "github.com/eni-detach/eni-detach/internal/emulator/sts"
)

// memberRoleName is the role local mode's member account has for the
// function, as deploy/member-role-trust-policy.json describes it.
const memberRoleName = "eni-detach"

// defaultMemberEvent is what `local --cross-account` invokes with: the
// member account's spot instance interrupted, the ECS event routed by
// EventBridge to the central account (aliyunoriginalaccountid names the
// member).
var defaultMemberEvent = `{"specversion":"1.0","id":"local-member-interruption","source":"acs.ecs",` +
	`"type":"ecs:Instance:PreemptibleInstanceInterruption","subject":"acs:ecs:` + ecsemu.DemoRegion + `:` + ecsemu.MemberAccount +
	`:instance/` + ecsemu.MemberInstanceID + `","time":"2026-11-25T08:15:30Z","datacontenttype":"application/json",` +
	`"aliyunaccountid":"` + localAccountID + `","aliyunoriginalaccountid":"` + ecsemu.MemberAccount + `","aliyunregionid":"` +
	ecsemu.DemoRegion + `","aliyuneventbusname":"default","data":{"instanceId":"` + ecsemu.MemberInstanceID + `","action":"delete"}}`

// startMemberAccount seeds the member account, gives it the role the
// function assumes (trusting the demo credentials' role, allowed the ECS
// actions the engine calls), starts an STS emulator on the ECS
// emulator's accounts, and points the function at it: TARGET_ROLE_ARN and
// TARGET_ACCOUNTS unless the environment sets them (so that, say,
// TARGET_ACCOUNTS=3234567890123456 shows the refusal), STS_ENDPOINT always.
func startMemberAccount(ecs *ecsemu.Server, overrides map[string]string, env func(string) string) (*stsemu.Server, error) {
	ecs.SeedMember()
	reg := ecs.Identity()
	role, err := identity.TrustingRole(ecsemu.MemberAccount, memberRoleName,
		identity.RoleARN(reg.DefaultAccount(), identity.DefaultRoleName), env(config.EnvTargetRoleExternalID), ecsapi.RAMActions)
	if err != nil {
		return nil, err
	}
	if err := reg.AddRole(role); err != nil {
		return nil, err
	}
	sts, err := stsemu.Start(reg)
	if err != nil {
		return nil, fmt.Errorf("starting the STS emulator: %w", err)
	}
	overrides[config.EnvSTSEndpoint] = sts.URL()
	defaults := map[string]string{
		config.EnvTargetRoleARN:  "acs:ram::" + config.AccountPlaceholder + ":role/" + memberRoleName,
		config.EnvTargetAccounts: ecsemu.MemberAccount,
	}
	for k, v := range defaults {
		if env(k) == "" {
			overrides[k] = v
		}
	}
	return sts, nil
}

// printSTS lists the AssumeRole calls of a --cross-account run.
func printSTS(w io.Writer, calls []stsemu.Call) {
	fmt.Fprintln(w, "\n== STS AssumeRole calls ==")
	if len(calls) == 0 {
		fmt.Fprintln(w, "(none)")
		return
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ROLE\tSESSION\tDURATION\tANSWER")
	for _, c := range calls {
		answer := "credentials " + c.Issued
		if c.Code != "" {
			answer = fmt.Sprintf("%d %s", c.HTTPStatus, c.Code)
		}
		fmt.Fprintf(tw, "%s\t%s\t%ss\t%s\n", c.Params["RoleArn"], c.Params["RoleSessionName"], c.Params["DurationSeconds"], answer)
	}
	tw.Flush()
}
