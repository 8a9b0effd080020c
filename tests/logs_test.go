package tests

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/eni-detach/eni-detach/internal/emulator/fcruntime"
)

// sdkLinePrefixes are the lines fc-runtime-go-sdk prints for each
// invocation ("FC Invoke Start RequestId: <id>", "FC Invoke End …").
var sdkLinePrefixes = []string{"FC Invoke Start RequestId: ", "FC Invoke End RequestId: "}

// checkLogs asserts, over everything the function wrote: no line holds any
// invocation's secret or token, nor any assumed role's; on stdout, after the first invocation
// started, every line belongs to a known invocation (a JSON line with its
// request_id, or the SDK's own start/end line naming it), and every
// invocation logged at least one JSON line.
func (e *env) checkLogs(t *testing.T, lines []fcruntime.Line) {
	t.Helper()
	all := e.allCreds()
	var secrets []string
	for _, c := range all {
		secrets = append(secrets, c.Secrets()...)
	}
	// The credentials STS issued to the function (a member account's
	// role) are as secret as FC's.
	for _, c := range e.assumedCreds() {
		secrets = append(secrets, c.Secrets()...)
	}
	started := false
	logged := map[string]bool{}
	for n, l := range lines {
		for _, s := range secrets {
			if strings.Contains(l.Text, s) {
				t.Errorf("%s line %d leaks a secret or token: %.200s", l.Stream, n, l.Text)
			}
		}
		if l.Stream != "stdout" {
			continue
		}
		if id, ok := sdkLine(l.Text); ok {
			if _, known := all[id]; !known {
				t.Errorf("SDK line for unknown request %q: %s", id, l.Text)
			}
			started = true
			continue
		}
		var rec struct {
			RequestID string `json:"request_id"`
			Message   string `json:"message"`
		}
		if err := json.Unmarshal([]byte(l.Text), &rec); err != nil {
			t.Errorf("stdout line %d is neither JSON nor an SDK line: %.200s", n, l.Text)
			continue
		}
		if !started {
			continue // start-up lines (configuration) precede every invocation
		}
		if _, known := all[rec.RequestID]; !known {
			t.Errorf("stdout line %d has request_id %q, not an invocation's: %.300s", n, rec.RequestID, l.Text)
			continue
		}
		logged[rec.RequestID] = true
	}
	for id := range all {
		if !logged[id] {
			t.Errorf("invocation %s logged no JSON line with its request_id", id)
		}
	}
}

func sdkLine(text string) (string, bool) {
	for _, p := range sdkLinePrefixes {
		if rest, ok := strings.CutPrefix(text, p); ok {
			id, _, _ := strings.Cut(rest, ",")
			return id, true
		}
	}
	return "", false
}
