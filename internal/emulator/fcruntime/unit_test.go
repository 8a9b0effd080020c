package fcruntime

import (
	"testing"
	"time"
)

func TestTimeoutSeconds(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want int
	}{
		{time.Second, 1},
		{time.Millisecond, 1},
		{1500 * time.Millisecond, 2},
		{60 * time.Second, 60},
	}
	for _, tc := range tests {
		t.Run(tc.in.String(), func(t *testing.T) {
			if got := timeoutSeconds(tc.in); got != tc.want {
				t.Errorf("got %d, want %d", got, tc.want)
			}
		})
	}
}

func TestParseVmHWM(t *testing.T) {
	tests := []struct {
		name, in string
		want     int64
		wantErr  bool
	}{
		{"present", "Name:\thellofc\nVmPeak:\t  1000 kB\nVmHWM:\t    5432 kB\nVmRSS:\t 5000 kB\n", 5432 * 1024, false},
		{"missing", "Name:\thellofc\n", 0, true},
		{"bad unit", "VmHWM:\t 12 MB\n", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseVmHWM([]byte(tc.in))
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Errorf("got %d, %v; want %d, err %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestLineLog(t *testing.T) {
	var l lineLog
	out, errs := l.writer("stdout"), l.writer("stderr")
	for _, w := range []struct {
		w *streamWriter
		s string
	}{{out, "he"}, {errs, "E1\n"}, {out, "llo\nwor"}, {out, "ld\r\n"}, {out, "tail"}} {
		if n, err := w.w.Write([]byte(w.s)); err != nil || n != len(w.s) {
			t.Fatalf("write %q: %d %v", w.s, n, err)
		}
	}
	want := []Line{{Stream: "stderr", Text: "E1"}, {Stream: "stdout", Text: "hello"}, {Stream: "stdout", Text: "world"}, {Stream: "stdout", Text: "tail"}}
	got := l.lines()
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i].Stream != want[i].Stream || got[i].Text != want[i].Text {
			t.Errorf("%d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}
