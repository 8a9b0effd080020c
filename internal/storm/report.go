package storm

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"time"

	ecsemu "github.com/eni-detach/eni-detach/internal/emulator/ecs"
	"github.com/eni-detach/eni-detach/internal/emulator/fcruntime"
)

// finalType is the follow-up event that closes an ENI's story: it is
// Available (Detached, AlreadyDetached). Any other last event (Pending,
// Failed) leaves whoever listens to the bus without an answer.
const finalType = "eni-detach:NetworkInterface:Detached"

// Report is what a storm did.
type Report struct {
	ENIs     int // eligible ENIs in the storm
	Detached int // of them, Available at the end
	// Lost counts ENIs not Available at the end, or whose last follow-up
	// event is not a Detached one.
	Lost int
	// Late counts invocations answered after their deadline, or never.
	Late int
	// Floor is the ideal client's time (see Floor); Took the storm's,
	// from the first event to the last ENI's final follow-up event (to
	// the end of the storm when an ENI was lost).
	Floor, Took time.Duration
	// Calls counts every ECS call the emulator answered or dropped;
	// Throttled those refused with Throttling*.
	Calls, Throttled int
	// PeakRSS is the largest peak RSS of one FC instance, in bytes.
	PeakRSS int64

	FloorCalls        FloorResult
	CallsByAction     map[string]int
	ThrottledByAction map[string]int
	Invocations       int // every invocation, retries included
	Errors            int // invocations that returned an error
	Retries           int // invocations that were async retries
	Dropped           int // events FC gave up on (retries or age exhausted)
	FollowUps         int // follow-up events on the bus
	RSS               []int64
	Windows           []ecsemu.QuotaWindow
	LostENIs          []string // "eni: why", the first few
	LateInvocations   []string
	Notes             []string
}

// Ratio is Took / Floor.
func (r *Report) Ratio() float64 {
	if r.Floor <= 0 {
		return math.Inf(1)
	}
	return r.Took.Seconds() / r.Floor.Seconds()
}

// ThrottledPct is the share of ECS calls that were throttled, in percent.
func (r *Report) ThrottledPct() float64 {
	if r.Calls == 0 {
		return 0
	}
	return 100 * float64(r.Throttled) / float64(r.Calls)
}

// Line is the storm command's last line.
func (r *Report) Line() string {
	return fmt.Sprintf("storm: enis=%d detached=%d lost=%d late=%d floor_s=%.1f took_s=%.1f ratio=%.2f throttled_pct=%.1f calls=%d peak_rss_mib=%.1f",
		r.ENIs, r.Detached, r.Lost, r.Late, r.Floor.Seconds(), r.Took.Seconds(), r.Ratio(), r.ThrottledPct(), r.Calls, mib(r.PeakRSS))
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// WriteDetails writes what stands behind the line: calls per API against
// the floor's, invocations, quota windows, lost ENIs.
func (r *Report) WriteDetails(w io.Writer) {
	actions := make([]string, 0, len(r.CallsByAction))
	for a := range r.CallsByAction {
		actions = append(actions, a)
	}
	sort.Strings(actions)
	for _, a := range actions {
		fmt.Fprintf(w, "calls: %-34s %5d (%d throttled)\n", a, r.CallsByAction[a], r.ThrottledByAction[a])
	}
	fmt.Fprintf(w, "floor: %d describes, %d detaches, %.1fs\n", r.FloorCalls.Describes, r.FloorCalls.Detaches, r.Floor.Seconds())
	fmt.Fprintf(w, "invocations: %d (%d async retries, %d returned an error, %d late), %d events dropped by FC, %d follow-up events\n",
		r.Invocations, r.Retries, r.Errors, r.Late, r.Dropped, r.FollowUps)
	rss := make([]string, len(r.RSS))
	for i, b := range r.RSS {
		rss[i] = fmt.Sprintf("%.1f", mib(b))
	}
	fmt.Fprintf(w, "peak RSS per FC instance (MiB): %s\n", strings.Join(rss, " "))
	for _, q := range r.Windows {
		fmt.Fprintf(w, "window %s +%v %-26s limit %4d accepted %4d throttled %4d\n",
			q.Start.Format("15:04:05"), q.Window, q.Action, q.Limit, q.Accepted, q.Throttled)
	}
	for _, l := range r.LostENIs {
		fmt.Fprintln(w, "lost:", l)
	}
	for _, l := range r.LateInvocations {
		fmt.Fprintln(w, "late:", l)
	}
	for _, n := range r.Notes {
		fmt.Fprintln(w, "note:", n)
	}
}

// maxExamples bounds the lost and late examples kept in a Report.
const maxExamples = 10

// followUp is the part of a follow-up CloudEvent the storm reads.
type followUp struct {
	Type string `json:"type"`
	Data struct {
		NetworkInterfaceID string `json:"networkInterfaceId"`
		Outcome            string `json:"outcome"`
	} `json:"data"`
}

func collect(c Config, st *stack, q *asyncQueue, insts []*instance, arrivals map[string]time.Time, start, end time.Time) *Report {
	r := &Report{CallsByAction: map[string]int{}, ThrottledByAction: map[string]int{}}

	type last struct {
		typ, outcome string
		at           time.Time
	}
	final := map[string]last{}
	events := st.eb.EventsForBus(st.bus)
	r.FollowUps = len(events)
	for _, ev := range events {
		var f followUp
		if json.Unmarshal(ev.Event, &f) != nil || f.Data.NetworkInterfaceID == "" {
			r.Notes = append(r.Notes, "a follow-up event without an ENI: "+string(ev.Event))
			continue
		}
		final[f.Data.NetworkInterfaceID] = last{f.Type, f.Data.Outcome, ev.Time} // accepted in order
	}

	var lastFinal time.Time
	floorIn := FloorInput{DetachQuota: c.DetachQuota, DescribeQuota: c.DescribeQuota, Window: c.Window, DetachDelay: c.DetachDelay}
	for _, in := range insts {
		arrival, ok := arrivals[in.id]
		if !ok {
			arrival = end // never delivered (the storm was cut short)
		}
		fi := FloorInstance{Arrival: arrival, ENIs: len(in.enis)}
		if in.stopping {
			fi.ReadyAt = arrival.Add(c.StopTime)
		}
		floorIn.Instances = append(floorIn.Instances, fi)
		for _, id := range in.enis {
			r.ENIs++
			e, _ := st.ecs.GetENI(id)
			if e.Status == ecsemu.ENIAvailable {
				r.Detached++
			}
			l, seen := final[id]
			var why string
			switch {
			case e.Status != ecsemu.ENIAvailable:
				why = "status " + e.Status
			case !seen:
				why = "no follow-up event"
			case l.typ != finalType:
				why = "last follow-up event " + l.typ + " (" + l.outcome + ")"
			}
			if why != "" {
				r.Lost++
				if len(r.LostENIs) < maxExamples {
					r.LostENIs = append(r.LostENIs, id+": "+why)
				}
				continue
			}
			if l.at.After(lastFinal) {
				lastFinal = l.at
			}
		}
	}
	r.FloorCalls = Floor(floorIn)
	r.Floor = r.FloorCalls.Duration()
	r.Took = end.Sub(start)
	if r.Lost == 0 && !lastFinal.IsZero() {
		r.Took = lastFinal.Sub(start)
	}

	for _, call := range st.ecs.Calls() {
		r.Calls++
		r.CallsByAction[call.Action]++
		if strings.HasPrefix(call.Code, "Throttling") {
			r.Throttled++
			r.ThrottledByAction[call.Action]++
		}
	}
	r.Windows = st.ecs.QuotaStats()

	attempts, dropped := q.attempts()
	r.Invocations, r.Dropped = len(attempts), len(dropped)
	for _, a := range attempts {
		if a.attempt > 0 {
			r.Retries++
		}
		if a.status == fcruntime.StatusError {
			r.Errors++
		}
		if a.late {
			r.Late++
			if len(r.LateInvocations) < maxExamples {
				r.LateInvocations = append(r.LateInvocations, fmt.Sprintf("%s attempt %d on FC instance %d: deadline %s, answered %s %s",
					a.requestID, a.attempt, a.fcInstance, a.deadline.Format("15:04:05.000"), a.completed.Format("15:04:05.000"), a.message))
			}
		}
	}
	for i, p := range st.procs {
		b, err := p.PeakRSS()
		if err != nil {
			r.Notes = append(r.Notes, fmt.Sprintf("peak RSS of FC instance %d: %v", i, err))
		}
		r.RSS = append(r.RSS, b)
		r.PeakRSS = max(r.PeakRSS, b)
	}
	return r
}
