package handler

import (
	"context"
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
	Publish(ctx context.Context, c creds.Credentials, region, accountID string, events []eventschema.FollowUpEvent) publish.Report
}

var _ Publisher = (*publish.Publisher)(nil)

// publishReserve is kept free before the FC deadline for the answer itself.
const publishReserve = 300 * time.Millisecond

// publish sends one follow-up event per result that has one (README,
// "Follow-up events") and records the outcome in the response. Nothing is
// sent for a dry run, for the results of slots that are not to be
// published (bad batch elements), or when no bus is configured.
func (h *Handler) publish(ctx context.Context, inv invocation, resp *eventschema.Response, slots []slot) {
	lg := loggerFrom(ctx)
	var events []eventschema.FollowUpEvent
	for _, s := range slots {
		if !s.publish {
			continue
		}
		for _, r := range s.report.Results {
			fe, ok := eventschema.NewFollowUp(r, inv.source, h.d.Config.EventBusName)
			if !ok {
				continue
			}
			lg.Info().Str("event_id", fe.ID).Str("event_type", fe.Type).Str("subject", fe.Subject).
				Str("eni_id", r.NetworkInterfaceID).Str("outcome", string(r.Outcome)).Msg("follow-up event")
			events = append(events, fe)
		}
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
