package backoff

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestDelayDoublesWithinJitter(t *testing.T) {
	const base, limit = 300 * time.Millisecond, 8 * time.Second
	for n := 1; n <= 70; n++ {
		full := min(base<<min(n-1, 16), limit)
		for range 50 {
			if d := Delay(n, base, limit); d < full/2 || d > full {
				t.Fatalf("Delay(%d) = %v, want within [%v, %v]", n, d, full/2, full)
			}
		}
	}
	if d := Delay(0, base, limit); d < base/2 || d > base {
		t.Fatalf("Delay(0) = %v", d)
	}
	if d := Delay(3, 0, 0); d != 0 {
		t.Fatalf("Delay without a base = %v", d)
	}
}

func TestSleep(t *testing.T) {
	if err := Sleep(context.Background(), time.Millisecond); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := Sleep(ctx, time.Hour); !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > time.Minute {
		t.Fatalf("Sleep past the deadline: %v after %v", err, time.Since(start))
	}
	if err := Sleep(ctx, 0); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Sleep(0) on an ended context: %v", err)
	}
}
