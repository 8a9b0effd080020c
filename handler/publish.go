package handler

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/eni-detach/eni-detach/eventschema"
	"github.com/eni-detach/eni-detach/internal/creds"
	"github.com/eni-detach/eni-detach/internal/publish"
)

// Publisher sends follow-up events; *publish.Publisher in production.
type Publisher interface {
	Publish(ctx context.Context, c creds.Credentials, region, accountID string, events []publish.Event) publish.Report
}

// publishReserve is kept free before the FC deadline for the answer itself.
const publishReserve = 300 * time.Millisecond

// publish sends one follow-up event per result that has one (README "Follow-up events") and
// records the outcome in the response. Nothing is sent for a dry run, for
// bad batch elements (skip[i]), or when no bus is configured.
func (h *Handler) publish(ctx context.Context, inv invocation, resp *eventschema.Response, skip []bool) {
	lg := loggerFrom(ctx)
	source := h.eventSource(inv)
	var events []publish.Event
	for i, r := range resp.Results {
		if skip[i] {
			continue
		}
		fe, ok := eventschema.NewFollowUp(r, source, h.d.Config.EventBusName, inv.accountID)
		if !ok {
			continue
		}
		data, err := json.Marshal(fe.Data)
		if err != nil {
			resp.PublishError = "encoding event data: " + err.Error()
			lg.Error().Err(err).Msg("cannot encode follow-up event")
			return
		}
		lg.Info().Str("event_id", fe.ID).Str("event_type", fe.Type).Str("subject", fe.Subject).
			Str("eni_id", r.NetworkInterfaceID).Str("outcome", string(r.Outcome)).Msg("follow-up event")
		events = append(events, publish.Event{
			ID: fe.ID, Source: fe.Source, Type: fe.Type, Subject: fe.Subject, Time: r.FinishedAt,
			DataContentType: fe.DataContentType, Data: data, BusName: fe.AliyunEventBusName,
		})
	}
	if len(events) == 0 {
		return
	}
	if h.d.Config.EventBusName == "" || h.d.Publisher == nil {
		lg.Debug().Int("events", len(events)).Msg("EVENT_BUS_NAME unset: follow-up events not published")
		return
	}
	pctx := ctx
	if dl, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		pctx, cancel = context.WithDeadline(ctx, dl.Add(-publishReserve))
		defer cancel()
	}
	rep := h.d.Publisher.Publish(pctx, inv.creds, inv.region, inv.accountID, events)
	resp.Published = rep.Published
	if rep.Err != nil || len(rep.Failed) > 0 {
		resp.PublishError = publishError(rep)
		lg.Error().Str("publish_error", resp.PublishError).Int("published", rep.Published).
			Int("failed", len(rep.Failed)).Strs("eventbridge_request_ids", rep.RequestIDs).Msg("follow-up events not all published")
		return
	}
	lg.Info().Int("published", rep.Published).Strs("eventbridge_request_ids", rep.RequestIDs).Msg("follow-up events published")
}

func publishError(rep publish.Report) string {
	var parts []string
	if rep.Err != nil {
		parts = append(parts, rep.Err.Error())
	}
	if n := len(rep.Failed); n > 0 {
		f := rep.Failed[0]
		parts = append(parts, fmt.Sprintf("%d event(s) rejected, first %s: %s %s", n, f.EventID, f.Code, f.Message))
	}
	return strings.Join(parts, "; ")
}

func loggerFrom(ctx context.Context) *zerolog.Logger { return zerolog.Ctx(ctx) }
