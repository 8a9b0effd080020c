package storm

import (
	"testing"
	"time"
)

func TestFloor(t *testing.T) {
	w0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC) // a window boundary for any window dividing a minute
	at := w0.Add
	same := func(n, enis int, arrival time.Time) []FloorInstance {
		out := make([]FloorInstance, n)
		for i := range out {
			out[i] = FloorInstance{Arrival: arrival, ENIs: enis}
		}
		return out
	}
	tests := []struct {
		name                string
		in                  FloorInput
		want                time.Duration
		describes, detaches int
	}{
		{
			name: "no quota: the last arrival plus the detach delay",
			in: FloorInput{DetachDelay: 2 * time.Second, Instances: []FloorInstance{
				{Arrival: at(time.Second), ENIs: 2}, {Arrival: at(0), ENIs: 2}, {Arrival: at(3 * time.Second), ENIs: 1},
			}},
			want: 5 * time.Second, describes: 4, detaches: 5,
		},
		{
			name: "detach quota: the last third of the detaches waits two windows",
			in:   FloorInput{DetachQuota: 3, Window: 10 * time.Second, DetachDelay: 2 * time.Second, Instances: same(4, 2, at(0))},
			want: 22 * time.Second, describes: 5, detaches: 8,
		},
		{
			name: "describe quota: listings wait, the confirming describe finds room",
			in:   FloorInput{DescribeQuota: 2, Window: 10 * time.Second, DetachDelay: 2 * time.Second, Instances: same(3, 1, at(0))},
			want: 12 * time.Second, describes: 4, detaches: 3,
		},
		{
			name: "describe quota: the confirming describe waits for the next window",
			in:   FloorInput{DescribeQuota: 1, Window: 10 * time.Second, DetachDelay: 2 * time.Second, Instances: same(3, 1, at(0))},
			want: 30 * time.Second, describes: 4, detaches: 3,
		},
		{
			name: "a storm that starts late in a window gets the next window sooner",
			in:   FloorInput{DetachQuota: 2, Window: 10 * time.Second, DetachDelay: 2 * time.Second, Instances: same(2, 2, at(7*time.Second))},
			want: 5 * time.Second, describes: 3, detaches: 4,
		},
		{
			name: "a stopping instance is detached once stopped",
			in: FloorInput{DetachDelay: 2 * time.Second, Instances: []FloorInstance{
				{Arrival: at(0), ENIs: 1}, {Arrival: at(0), ReadyAt: at(3 * time.Second), ENIs: 1},
			}},
			want: 5 * time.Second, describes: 3, detaches: 2,
		},
		{
			name: "at most 100 ids per confirming describe",
			in:   FloorInput{DetachDelay: time.Second, Instances: same(3, 50, at(0))},
			want: time.Second, describes: 5, detaches: 150,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Floor(tt.in)
			if got.Duration() != tt.want || got.Describes != tt.describes || got.Detaches != tt.detaches {
				t.Errorf("Floor = %v with %d describes, %d detaches; want %v, %d, %d",
					got.Duration(), got.Describes, got.Detaches, tt.want, tt.describes, tt.detaches)
			}
		})
	}
	if got := Floor(FloorInput{}); got.Duration() != 0 || got.Describes != 0 {
		t.Errorf("empty storm: %+v", got)
	}
}
