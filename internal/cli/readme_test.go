package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aliyun/fc-runtime-go-sdk/events"

	"github.com/eni-detach/eni-detach/internal/config"
)

// README examples are real runs of `local`. Each JSON block of README.md
// that shows an output follows a marker comment saying how to reproduce it:
//
//	<!-- example: event=FILE | stdin=JSON [ecs-error=CODE] [cross-account=true] [status=N] show=WHAT [keep=a,b] -->
//
// event / stdin / ecs-error / cross-account are the `local` flags (stdin: the JSON piped to
// `--event -`, without spaces); show is "response" (for an HTTP trigger
// event: its body) or "event" (the follow-up events), then a dotted path
// (response.results.0); keep keeps only those members; status checks the
// HTTP status. The command itself must be written in the lines just above
// the marker, so the prose says what was run. TestReadmeExamples runs each
// and compares, with times, request ids, durations and event id hashes
// normalised; go test ./internal/cli -run TestReadmeExamples -update
// rewrites the blocks from new runs.

const readmePath = repoRoot + "/README.md"

type readmeExample struct {
	line                         int // of the marker, 1-based
	event, stdin, ecsError, show string
	crossAccount                 bool
	keep                         []string
	status                       int
	blockStart, blockEnd         int // line indexes of the block's content [start, end)
	command                      string
	markerText                   string
	precedingText                string
}

var markerRE = regexp.MustCompile(`^<!-- example: (.*) -->$`)

func parseReadmeExamples(t *testing.T, lines []string) []readmeExample {
	t.Helper()
	var out []readmeExample
	for i, line := range lines {
		m := markerRE.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			if strings.Contains(line, "<!-- example") {
				t.Errorf("README.md:%d: malformed example marker %q", i+1, line)
			}
			continue
		}
		ex := readmeExample{line: i + 1, markerText: m[1]}
		for _, f := range strings.Fields(m[1]) {
			k, v, ok := strings.Cut(f, "=")
			if !ok {
				t.Errorf("README.md:%d: %q is not key=value", i+1, f)
				continue
			}
			switch k {
			case "event":
				ex.event = v
			case "stdin":
				ex.stdin = v
			case "ecs-error":
				ex.ecsError = v
			case "cross-account":
				ex.crossAccount = v == "true"
			case "show":
				ex.show = v
			case "keep":
				ex.keep = strings.Split(v, ",")
			case "status":
				if _, err := fmt.Sscan(v, &ex.status); err != nil {
					t.Errorf("README.md:%d: status %q", i+1, v)
				}
			default:
				t.Errorf("README.md:%d: unknown key %q", i+1, k)
			}
		}
		ex.command = "go run . local"
		switch {
		case ex.stdin != "":
			ex.command = "echo '" + ex.stdin + "' | go run . local --event -"
		case ex.event != "":
			ex.command += " --event " + ex.event
		}
		if ex.ecsError != "" {
			ex.command += " --ecs-error " + ex.ecsError
		}
		if ex.crossAccount {
			ex.command += " --cross-account"
		}
		ex.precedingText = strings.Join(lines[max(0, i-8):i], "\n")
		j := i + 1
		for j < len(lines) && strings.TrimSpace(lines[j]) == "" {
			j++
		}
		if j >= len(lines) || strings.TrimSpace(lines[j]) != "```json" {
			t.Errorf("README.md:%d: an example marker must be followed by a ```json block", i+1)
			continue
		}
		ex.blockStart = j + 1
		for ex.blockEnd = ex.blockStart; ex.blockEnd < len(lines) && strings.TrimSpace(lines[ex.blockEnd]) != "```"; ex.blockEnd++ {
		}
		out = append(out, ex)
	}
	return out
}

// produce runs the example and returns the selected JSON.
func (ex readmeExample) produce(t *testing.T) any {
	t.Helper()
	opts := localOptions{payload: []byte(defaultLocalEvent), detachDelay: defaultDetachDelay, ecsError: ex.ecsError,
		crossAccount: ex.crossAccount, getenv: noEnv}
	if ex.crossAccount {
		opts.payload = []byte(defaultMemberEvent)
	}
	switch {
	case ex.stdin != "":
		opts.payload = []byte(ex.stdin)
	case ex.event != "":
		opts.payload = []byte(fileText(t, ex.event))
	}
	var logs strings.Builder
	run, err := execLocal(opts, &logs)
	if err != nil {
		t.Fatal(err)
	}
	var response []byte
	switch out := run.out.(type) {
	case events.HTTPTriggerResponse:
		if ex.status != 0 && out.StatusCode != ex.status {
			t.Fatalf("HTTP %d, the README says %d: %s", out.StatusCode, ex.status, out.Body)
		}
		response = []byte(out.Body)
	default:
		if ex.status != 0 {
			t.Fatalf("status=%d on an example that is not an HTTP trigger event", ex.status)
		}
		if response, err = json.Marshal(out); err != nil {
			t.Fatal(err)
		}
	}
	root, rest, _ := strings.Cut(ex.show, ".")
	var doc any
	switch root {
	case "response":
		doc, err = decodeOrdered(response)
	case "event":
		evs := make([]any, len(run.events))
		for i, e := range run.events {
			if evs[i], err = decodeOrdered(e); err != nil {
				break
			}
		}
		doc = evs
	default:
		t.Fatalf("show=%q: must start with response or event", ex.show)
	}
	if err != nil {
		t.Fatal(err)
	}
	v, err := selectPath(doc, rest)
	if err == nil && ex.keep != nil {
		v, err = keepMembers(v, ex.keep)
	}
	if err != nil {
		t.Fatalf("show=%s keep=%v: %v\n%s", ex.show, ex.keep, err, response)
	}
	return v
}

// Values that differ from run to run.
var (
	timeRE      = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)`)
	uuidRE      = regexp.MustCompile(`[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}`)
	localIDRE   = regexp.MustCompile(`local-\d+`)
	eventHashRE = regexp.MustCompile(`-[0-9a-f]{24}$`)
)

// normalise replaces what differs between runs: times, request ids, the
// local FC request id, event id hashes (derived from it), durations, and
// the number of request ids (one per poll: it depends on timing).
func normalise(v any) any {
	switch x := v.(type) {
	case *object:
		out := &object{keys: x.keys, vals: map[string]any{}}
		for _, k := range x.keys {
			switch k {
			case "durationMs":
				out.vals[k] = 0
			case "requestIds":
				out.vals[k] = "<request ids>"
			default:
				out.vals[k] = normalise(x.vals[k])
			}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalise(e)
		}
		return out
	case string:
		s := timeRE.ReplaceAllString(x, "<time>")
		s = uuidRE.ReplaceAllString(s, "<uuid>")
		s = localIDRE.ReplaceAllString(s, "local-<n>")
		return eventHashRE.ReplaceAllString(s, "-<hash>")
	default:
		return v
	}
}

func compact(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("<%v>", err)
	}
	return string(b)
}

// render is how -update writes a block: one line when short, else indented
// as `local` prints it.
func render(v any) string {
	if s := compact(v); len(s) <= 110 {
		return s
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Sprintf("<%v>", err)
	}
	return string(b)
}

func TestReadmeExamples(t *testing.T) {
	b, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	examples := parseReadmeExamples(t, lines)
	if len(examples) < 10 {
		t.Fatalf("%d example markers in README.md; the README's outputs are all meant to be checked", len(examples))
	}
	produced := make([]any, len(examples))
	t.Run("runs", func(t *testing.T) {
		for i, ex := range examples {
			t.Run(fmt.Sprintf("line-%d", ex.line), func(t *testing.T) {
				t.Parallel()
				if !strings.Contains(ex.precedingText, ex.command) {
					t.Errorf("README.md:%d: the lines above the marker do not give the command %q", ex.line, ex.command)
				}
				got := ex.produce(t)
				produced[i] = got
				if *update {
					return
				}
				block := strings.Join(lines[ex.blockStart:ex.blockEnd], "\n")
				doc, err := decodeOrdered([]byte(block))
				if err != nil {
					t.Fatalf("README.md:%d: the block is not JSON: %v", ex.blockStart+1, err)
				}
				if g, w := compact(normalise(got)), compact(normalise(doc)); g != w {
					t.Errorf("README.md:%d (%s) differs from a run (normalised):\nrun:    %s\nREADME: %s\n"+
						"go test ./internal/cli -run TestReadmeExamples -update rewrites it", ex.blockStart+1, ex.markerText, g, w)
				}
			})
		}
	})
	if !*update || t.Failed() {
		return
	}
	// Rewrite from the last block up, so earlier line numbers stay right.
	for i := len(examples) - 1; i >= 0; i-- {
		ex := examples[i]
		repl := strings.Split(render(produced[i]), "\n")
		lines = append(lines[:ex.blockStart], append(repl, lines[ex.blockEnd:]...)...)
	}
	if err := os.WriteFile(filepath.Clean(readmePath), []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
}

// commandFlags lists a command's flags as its --help prints them.
func commandFlags(t *testing.T, cmd string) []string {
	t.Helper()
	_, _, help := run(t, cmd, "--help")
	var names []string
	for _, line := range strings.Split(help, "\n") {
		if rest, ok := strings.CutPrefix(line, "  -"); ok {
			name, _, _ := strings.Cut(rest, " ")
			names = append(names, name)
		}
	}
	if len(names) < 3 {
		t.Fatalf("%s --help lists %v", cmd, names)
	}
	return names
}

// The README gives each command's synopsis as the program does, a row for
// each flag, and the LOG_LEVEL values the configuration accepts.
func TestReadmeMatchesTheProgram(t *testing.T) {
	b, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	for _, tc := range []struct{ cmd, synopsis string }{{"local", localUsage}, {"detach", detachUsage}} {
		if s := strings.TrimPrefix(tc.synopsis, "usage: "); !strings.Contains(readme, "\n"+s+"\n") {
			t.Errorf("README.md lacks the %s synopsis %q on a line of its own", tc.cmd, s)
		}
		for _, f := range commandFlags(t, tc.cmd) {
			if !regexp.MustCompile("(?m)^\\| `--" + regexp.QuoteMeta(f) + "[ `]").MatchString(readme) {
				t.Errorf("README.md has no table row for %s --%s", tc.cmd, f)
			}
		}
	}
	row := regexp.MustCompile("(?m)^\\| `LOG_LEVEL` \\|.*$").FindString(readme)
	var levels []string
	if cells, ok := splitRow(row); ok {
		for _, m := range regexp.MustCompile("`([a-z]+)`").FindAllStringSubmatch(cells[len(cells)-1], -1) {
			levels = append(levels, m[1])
		}
	}
	if strings.Join(levels, ",") != strings.Join(config.LogLevels, ",") {
		t.Errorf("README.md's LOG_LEVEL row lists %v, the program accepts %v (config.LogLevels)", levels, config.LogLevels)
	}
}
