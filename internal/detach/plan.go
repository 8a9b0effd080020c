package detach

import (
	"context"

	"github.com/eni-detach/eni-detach/eventschema"
	"github.com/eni-detach/eni-detach/internal/ecsapi"
)

// plan is what the engine made of one target: the ENIs it reports on, and
// for an instance-wide target the ENIs it left alone.
type plan struct {
	target  *Target
	enis    []*eni
	skipped []eventschema.Skipped
	ignored string
}

// plan turns targets into ENIs: refused requests directly, named ENIs
// directly, instances through a paged listing of their secondary ENIs.
// Named ENIs are then described in batches.
func (r *run) plan(clients Clients, targets []Target) []plan {
	plans := make([]plan, len(targets))
	for i := range targets {
		tg := &targets[i]
		plans[i].target = tg
		switch {
		case tg.Invalid != nil, tg.Refused != nil:
			plans[i].enis = []*eni{r.refused(tg)}
		case tg.NetworkInterfaceID != "":
			plans[i].enis = []*eni{r.track(tg, clients.Client(r.ctx, *tg), tg.NetworkInterfaceID)}
		default:
			r.planInstance(&plans[i], clients.Client(r.ctx, *tg))
		}
	}
	r.describe(r.active(phaseNew))
	return plans
}

// track returns the state of an ENI, creating it once: a batch naming the
// same ENI twice acts on it once and reports it twice.
func (r *run) track(tg *Target, api ecsapi.API, id string) *eni {
	k := tg.AccountID + "/" + tg.RegionID + "/" + id
	if e, ok := r.enis[k]; ok {
		return e
	}
	e := &eni{
		account: tg.AccountID, region: tg.RegionID, id: id, namedInstance: tg.InstanceID, trunkID: tg.TrunkID,
		dryRun: tg.DryRun, wait: tg.Wait, api: api,
		resultInstance: tg.InstanceID, requestIDs: []string{}, started: r.start,
	}
	r.enis[k] = e
	r.order = append(r.order, e)
	return e
}

// refused is the result of a target refused before the engine, reported
// and never acted on: InvalidRequest for a bad request, Refused for one
// the configuration forbids.
func (r *run) refused(tg *Target) *eni {
	now := r.clk.Now()
	e := &eni{
		account: tg.AccountID, region: tg.RegionID, id: tg.NetworkInterfaceID, resultInstance: tg.InstanceID,
		dryRun: tg.DryRun, requestIDs: []string{}, started: now, finished: now, phase: phaseDone,
	}
	if tg.Invalid != nil {
		e.outcome = eventschema.OutcomeInvalidRequest
		e.err = &eventschema.ErrorInfo{Code: eventschema.CodeInvalidRequest, Message: tg.Invalid.Error(), Fields: tg.Invalid.Fields}
	} else {
		e.outcome, e.err = eventschema.OutcomeRefused, tg.Refused
	}
	return e
}

// planInstance lists an instance's secondary ENIs and keeps the eligible
// ones. The listing is not "about" any one ENI, so its request ids are not
// put on the results (README, "What the invocation returns").
func (r *run) planInstance(p *plan, api ecsapi.API) {
	tg := p.target
	seen := map[string]bool{}
	token := ""
	for {
		var page ecsapi.DescribePage
		res := r.call(actDescribe, tg.AccountID, tg.RegionID, func(ctx context.Context) (string, error) {
			var err error
			page, err = api.DescribeNetworkInterfaces(ctx, ecsapi.DescribeInput{
				RegionID: tg.RegionID, InstanceID: tg.InstanceID, Type: "Secondary",
				MaxResults: r.p.PageSize, NextToken: token,
			})
			return page.RequestID, err
		})
		if err := res.err(); err != nil {
			// The rest of the instance could not be listed: report that
			// as one more result naming the instance, so the failure is
			// returned and published, not lost. ENIs of earlier pages
			// are acted on and keep their own results.
			e := &eni{account: tg.AccountID, region: tg.RegionID, resultInstance: tg.InstanceID, requestIDs: []string{},
				started: r.start, dryRun: tg.DryRun}
			r.fail(e, res.rule, err)
			e.requestIDs = res.appendRequestIDs(e.requestIDs)
			p.enis = append(p.enis, e)
			return
		}
		for _, x := range page.ENIs {
			if seen[x.ID] {
				continue // paging over a changing set can repeat an ENI
			}
			seen[x.ID] = true
			if ok, why := eligibleForInstanceWide(x, r.p.TagSelector); !ok {
				p.skipped = append(p.skipped, eventschema.Skipped{NetworkInterfaceID: x.ID, InstanceID: tg.InstanceID, Reason: why})
				continue
			}
			e := r.track(tg, api, x.ID)
			if e.phase == phaseNew {
				// The listing is the look before acting: deciding from
				// it saves a describe by id per instance, which counts
				// against the same quota as every poll.
				r.decide(e, &x, r.clk.Now())
			}
			p.enis = append(p.enis, e)
		}
		if page.NextToken == "" || page.NextToken == token {
			break
		}
		token = page.NextToken
	}
	if len(p.enis) == 0 {
		p.ignored = "instance " + tg.InstanceID + " has no eligible secondary ENI"
	}
}
