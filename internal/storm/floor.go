package storm

import (
	"slices"
	"time"
)

// The floor is what an ideal client would need: one that knows every
// quota and where its windows start, sees every event the moment it
// arrives, waits on nothing but ECS (calls take no time), and makes only
// the calls the job cannot do without:
//
//   - one DescribeNetworkInterfaces per instance, listing its secondary
//     ENIs (the event names only the instance), as soon as the event has
//     arrived and a describe is left in the window;
//   - one DetachNetworkInterface per eligible ENI, as soon as its instance
//     was listed (and, for a stopping instance, has stopped: ECS refuses
//     a detach while the instance is Stopping) and a detach is left in the
//     window;
//   - one DescribeNetworkInterfaces per 100 detached ENIs (ECS's id limit),
//     made when the last of them has become Available (detach delay after
//     its detach), to see that it has.
//
// Windows are fixed and aligned on multiples of their length, as the ECS
// emulator counts them; a call that finds its window's quota spent moves
// to the start of the next window. Calls are taken in order of arrival,
// each as early as it can go: with one resource per API and only release
// times to respect, earliest-first is the shortest schedule. The floor is
// the time from the first event to the last of those describes.

// FloorInput is what the floor depends on.
type FloorInput struct {
	// Instances are the storm's instances, in any order.
	Instances []FloorInstance
	// Quotas per window for DetachNetworkInterface and
	// DescribeNetworkInterfaces; <= 0 means unlimited.
	DetachQuota, DescribeQuota int
	Window                     time.Duration
	DetachDelay                time.Duration
}

// FloorInstance is one instance event.
type FloorInstance struct {
	Arrival time.Time // the event reached FC
	// ReadyAt is when ECS accepts a detach from the instance (it has
	// stopped); zero or before Arrival: at once.
	ReadyAt time.Time
	ENIs    int // eligible secondary ENIs
}

// FloorResult is the ideal schedule's length and call counts.
type FloorResult struct {
	Start     time.Time // the first arrival
	End       time.Time // the last confirming describe
	Describes int
	Detaches  int
}

// Duration is End − Start.
func (r FloorResult) Duration() time.Duration { return r.End.Sub(r.Start) }

// maxIDsPerDescribe is ECS's limit on NetworkInterfaceId.N in one call.
const maxIDsPerDescribe = 100

// Floor computes the ideal client's schedule.
func Floor(in FloorInput) FloorResult {
	insts := slices.Clone(in.Instances)
	slices.SortStableFunc(insts, func(a, b FloorInstance) int { return a.Arrival.Compare(b.Arrival) })
	var res FloorResult
	if len(insts) == 0 {
		return res
	}
	res.Start, res.End = insts[0].Arrival, insts[0].Arrival
	describe := newWindowQuota(in.DescribeQuota, in.Window)
	detach := newWindowQuota(in.DetachQuota, in.Window)
	var available []time.Time
	for _, inst := range insts {
		listed := describe.take(inst.Arrival)
		res.Describes++
		ready := listed
		if inst.ReadyAt.After(ready) {
			ready = inst.ReadyAt
		}
		for range inst.ENIs {
			at := detach.take(ready)
			res.Detaches++
			available = append(available, at.Add(in.DetachDelay))
		}
	}
	slices.SortFunc(available, func(a, b time.Time) int { return a.Compare(b) })
	for len(available) > 0 {
		n := min(len(available), maxIDsPerDescribe)
		at := describe.take(available[n-1])
		res.Describes++
		if at.After(res.End) {
			res.End = at
		}
		available = available[n:]
	}
	return res
}

// windowQuota hands out calls: at most limit per aligned window.
type windowQuota struct {
	limit  int
	window time.Duration
	used   map[int64]int // window start (UnixNano) → calls taken
}

func newWindowQuota(limit int, window time.Duration) *windowQuota {
	return &windowQuota{limit: limit, window: window, used: map[int64]int{}}
}

// take returns the earliest time at or after t with a call left in its
// window, and takes that call. Quota-free APIs answer t.
func (q *windowQuota) take(t time.Time) time.Time {
	if q.limit <= 0 || q.window <= 0 {
		return t
	}
	for {
		start := t.Truncate(q.window)
		if q.used[start.UnixNano()] < q.limit {
			q.used[start.UnixNano()]++
			return t
		}
		t = start.Add(q.window)
	}
}
