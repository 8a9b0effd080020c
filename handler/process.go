package handler

import (
	"context"
	"strings"

	"github.com/eni-detach/eni-detach/eventschema"
	"github.com/eni-detach/eni-detach/internal/detach"
)

// slot is one payload item and what became of it.
type slot struct {
	item eventschema.Item
	// target is the item's index in the engine's targets; -1 for an
	// ignored item, which the engine never sees.
	target int
	report detach.TargetReport
	// publish says whether the item's results get follow-up events: a
	// refused item (bad batch element) is reported but was not acted on.
	publish bool
}

// process runs the recognised items: plan → detach → publish → answer.
func (h *Handler) process(ctx context.Context, inv invocation, items []eventschema.Item) eventschema.Response {
	slots := make([]slot, len(items))
	var targets []detach.Target
	for i, it := range items {
		slots[i] = slot{item: it, target: -1}
		if it.Ignored != "" && it.Err == nil {
			logIgnored(ctx, it)
			continue
		}
		tg := h.target(inv, it)
		slots[i].target, slots[i].publish = len(targets), tg.Invalid == nil // refused targets are published
		if tg.Refused != nil {
			loggerFrom(ctx).Warn().Str("account_id", tg.AccountID).Str("error_code", tg.Refused.Code).
				Str("reason", tg.Refused.Message).Msg("account refused: no STS or ECS call made")
		}
		targets = append(targets, tg)
	}
	if len(targets) > 0 {
		reports := h.d.Engine.Run(ctx, h.clients(inv), targets)
		for i := range slots {
			if k := slots[i].target; k >= 0 {
				slots[i].report = reports[k]
			}
		}
	}

	// Results in payload order; the ignored reasons of the items come
	// before those of instances with nothing to detach.
	var (
		resp                     eventschema.Response
		itemIgnored, instIgnored []string
	)
	for _, s := range slots {
		resp.Results = append(resp.Results, s.report.Results...)
		resp.Skipped = append(resp.Skipped, s.report.Skipped...)
		if s.target < 0 {
			itemIgnored = append(itemIgnored, s.item.Ignored)
		}
		if s.report.Ignored != "" {
			instIgnored = append(instIgnored, s.report.Ignored)
		}
	}
	if len(resp.Results) == 0 {
		resp.Ignored = strings.Join(append(itemIgnored, instIgnored...), "; ")
	}
	h.publish(ctx, inv, &resp, slots)
	return resp
}

// target turns an item into a detach target. A refused item (a bad batch
// element, or a region that is missing or malformed, or an account the
// function may not act in) becomes a target the engine only reports on.
func (h *Handler) target(inv invocation, it eventschema.Item) detach.Target {
	req := it.Request
	region := firstNonEmpty(req.RegionID, it.EventRegion, inv.region) // README, "The request object"
	tg := detach.Target{
		RegionID:           region,
		NetworkInterfaceID: req.NetworkInterfaceID,
		InstanceID:         req.InstanceID,
		TrunkID:            req.TrunkNetworkInstanceID,
		DryRun:             req.WantsDryRun() || h.d.Config.DryRun,
		Wait:               req.WantsWait(),
		Trigger:            it.Trigger,
		FCRequestID:        inv.requestID,
		Invalid:            it.Err,
	}
	switch {
	case tg.Invalid != nil:
	case region == "":
		tg.Invalid = &eventschema.ValidationError{Fields: []eventschema.FieldError{{
			Field: "RegionId", Problem: "is required when the function's region is unknown (FC_REGION unset)"}}}
	case !eventschema.ValidRegionID(region):
		tg.Invalid = &eventschema.ValidationError{Fields: []eventschema.FieldError{{
			Field: "RegionId", Problem: "must be a region id such as cn-hangzhou, got " + region}}}
	}
	tg.AccountID, tg.Refused = h.owner(inv, it)
	if tg.Invalid != nil {
		tg.Refused = nil
	}
	return tg
}

func logIgnored(ctx context.Context, it eventschema.Item) {
	lg := loggerFrom(ctx)
	lg.Info().Str("event_id", it.Trigger.EventID).Str("event_type", it.Trigger.EventType).
		Str("event_source", it.Trigger.EventSource).Str("reason", it.Ignored).Msg("event ignored")
}
