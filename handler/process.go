package handler

import (
	"context"
	"strings"
	"time"

	"github.com/eni-detach/eni-detach/eventschema"
	"github.com/eni-detach/eni-detach/internal/detach"
)

// process runs the recognised items: plan → detach → publish → answer.
func (h *Handler) process(ctx context.Context, inv invocation, items []eventschema.Item) eventschema.Response {
	var (
		resp    eventschema.Response
		ignored []string
		targets []detach.Target
		owners  []int // item index per target
	)
	invalid := map[int]eventschema.Result{}
	for i, it := range items {
		switch {
		case it.Err != nil:
			invalid[i] = h.invalidItem(inv, it)
		case it.Ignored != "":
			ignored = append(ignored, it.Ignored)
			logIgnored(ctx, it)
		default:
			tg, err := h.target(inv, it)
			if err != nil {
				it.Err = err
				invalid[i] = h.invalidItem(inv, it)
				continue
			}
			targets = append(targets, tg)
			owners = append(owners, i)
		}
	}

	var reports []detach.TargetReport
	if len(targets) > 0 {
		api := h.d.ECS.Client(inv.creds)
		reports = h.d.Engine.Run(ctx, api, targets)
	}

	// Results in payload order: each item's results where the item stood.
	byItem := map[int]detach.TargetReport{}
	for k, rep := range reports {
		byItem[owners[k]] = rep
	}
	var skip []bool // results that publish nothing: bad elements were not acted on
	for i, it := range items {
		if r, ok := invalid[i]; ok {
			resp.Results = append(resp.Results, r)
			skip = append(skip, true)
			continue
		}
		rep, ok := byItem[i]
		if !ok {
			continue
		}
		for _, r := range rep.Results {
			r.Trigger = it.Trigger
			r.FCRequestID = inv.requestID
			resp.Results = append(resp.Results, r)
			skip = append(skip, false)
		}
		resp.Skipped = append(resp.Skipped, rep.Skipped...)
		if rep.Ignored != "" {
			ignored = append(ignored, rep.Ignored)
		}
	}
	if len(resp.Results) == 0 {
		resp.Ignored = strings.Join(ignored, "; ")
	}
	h.publish(ctx, inv, &resp, skip)
	return resp
}

// target turns an actionable item into a detach target.
func (h *Handler) target(inv invocation, it eventschema.Item) (detach.Target, *eventschema.ValidationError) {
	req := it.Request
	region := regionFor(inv, it)
	if region == "" {
		return detach.Target{}, &eventschema.ValidationError{Fields: []eventschema.FieldError{{
			Field: "RegionId", Problem: "is required when the function's region is unknown (FC_REGION unset)"}}}
	}
	if !eventschema.ValidRegionID(region) {
		return detach.Target{}, &eventschema.ValidationError{Fields: []eventschema.FieldError{{
			Field: "RegionId", Problem: "must be a region id such as cn-hangzhou, got " + region}}}
	}
	return detach.Target{
		RegionID:           region,
		NetworkInterfaceID: req.NetworkInterfaceID,
		InstanceID:         req.InstanceID,
		TrunkID:            req.TrunkNetworkInstanceID,
		DryRun:             req.WantsDryRun() || h.d.Config.DryRun,
		Wait:               req.WantsWait(),
	}, nil
}

// regionFor is the request's region, else the event's, else the
// function's own (README "The request object").
func regionFor(inv invocation, it eventschema.Item) string {
	return firstNonEmpty(it.Request.RegionID, it.EventRegion, inv.region)
}

// invalidItem is the result of a bad batch element: reported, never
// published, and the other elements go on.
func (h *Handler) invalidItem(inv invocation, it eventschema.Item) eventschema.Result {
	region := regionFor(inv, it)
	now := time.Now()
	return eventschema.Result{
		StartedAt:          now,
		FinishedAt:         now,
		RegionID:           region,
		NetworkInterfaceID: it.Request.NetworkInterfaceID,
		InstanceID:         it.Request.InstanceID,
		Outcome:            eventschema.OutcomeInvalidRequest,
		Error: &eventschema.ErrorInfo{Code: eventschema.CodeInvalidRequest, Message: it.Err.Error(),
			Fields: it.Err.Fields},
		RequestIDs:  []string{},
		DryRun:      it.Request.WantsDryRun() || h.d.Config.DryRun,
		Trigger:     it.Trigger,
		FCRequestID: inv.requestID,
	}
}

func logIgnored(ctx context.Context, it eventschema.Item) {
	lg := loggerFrom(ctx)
	lg.Info().Str("event_id", it.Trigger.EventID).Str("event_type", it.Trigger.EventType).
		Str("event_source", it.Trigger.EventSource).Str("reason", it.Ignored).Msg("event ignored")
}
