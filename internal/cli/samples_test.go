package cli

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/fc-runtime-go-sdk/events"

	"github.com/eni-detach/eni-detach/eventschema"
)

// repoRoot is the repository, seen from this package's directory.
const repoRoot = "../.."

// sampleDirs hold the sample payloads the READMEs point users at; every
// JSON file under them must be in samples.
var sampleDirs = []string{"eventschema/testdata", "handler/testdata/http"}

// samples is what `go run . local --event FILE` answers for every sample
// payload, as summarised by summarise; the "`local`" column of the README
// beside each file says the same (go test ./internal/cli -run
// TestSamplePayloads -update rewrites that column from this table). Exit
// status 0 throughout: none of them makes the function return an error.
//
// To add a sample: put the file in its directory, add a row here and a row
// to the README beside it, then run the test with -update.
var samples = map[string]string{
	"eventschema/testdata/ecs/batch-objects.json":                            "Detached ×4",
	"eventschema/testdata/ecs/batch-strings.json":                            "Detached ×4",
	"eventschema/testdata/ecs/custom-request.json":                           "Detached",
	"eventschema/testdata/ecs/failure-executing.json":                        "Detached ×2",
	"eventschema/testdata/ecs/ignored-disk-event.json":                       "ignored",
	"eventschema/testdata/ecs/ignored-followup.json":                         "ignored",
	"eventschema/testdata/ecs/ignored-maintenance-executed.json":             "ignored",
	"eventschema/testdata/ecs/ignored-statechange-running.json":              "ignored",
	"eventschema/testdata/ecs/maintenance-executing.json":                    "Detached ×2",
	"eventschema/testdata/ecs/maintenance-scheduled-near.json":               "Detached ×2",
	"eventschema/testdata/ecs/maintenance-inquiring.json":                    "Detached ×2",
	"eventschema/testdata/ecs/maintenance-reboot-isolate-disk.json":          "Detached ×2",
	"eventschema/testdata/ecs/instance-failure-reboot.json":                  "Detached ×2",
	"eventschema/testdata/ecs/ignored-maintenance-scheduled-far.json":        "ignored",
	"eventschema/testdata/ecs/ignored-maintenance-isolate-error-disk.json":   "ignored",
	"eventschema/testdata/ecs/ignored-maintenance-reinit-error-disk.json":    "ignored",
	"eventschema/testdata/ecs/ignored-maintenance-clean-released-disks.json": "ignored",
	"eventschema/testdata/ecs/preemptible-interruption.json":                 "Detached ×2",
	"eventschema/testdata/ecs/statechange-stopped.json":                      "Detached ×2",
	"eventschema/testdata/ecs/statechange-stopping.json":                     "Detached ×2",
	"eventschema/testdata/golden/detached.json":                              "ignored",
	"eventschema/testdata/golden/failed.json":                                "ignored",
	"eventschema/testdata/golden/pending.json":                               "ignored",
	"handler/testdata/http/get.json":                                         "HTTP 405 MethodNotAllowed",
	"handler/testdata/http/post-bad-base64.json":                             "HTTP 400 InvalidRequest (body)",
	"handler/testdata/http/post-bad-query.json":                              "HTTP 400 InvalidRequest (query.wait, query.dryRun)",
	"handler/testdata/http/post-batch.json":                                  "HTTP 400 InvalidRequest (body)",
	"handler/testdata/http/post-detach-base64.json":                          "HTTP 200 Detached",
	"handler/testdata/http/post-detach.json":                                 "HTTP 200 Detached",
	"handler/testdata/http/post-dryrun-query.json":                           "HTTP 200 DryRun",
	"handler/testdata/http/post-form.json":                                   "HTTP 400 InvalidRequest (content-type)",
	"handler/testdata/http/post-instance-unknown.json":                       "HTTP 200 ignored",
	"handler/testdata/http/post-instance.json":                               "HTTP 200 Detached ×2",
	"handler/testdata/http/post-invalid-json.json":                           "HTTP 400 InvalidRequest (body)",
	"handler/testdata/http/post-malformed-ids.json":                          "HTTP 400 InvalidRequest (NetworkInterfaceId, InstanceId)",
	"handler/testdata/http/post-no-content-type.json":                        "HTTP 400 InvalidRequest (content-type)",
	"handler/testdata/http/post-not-found.json":                              "HTTP 404 NotFound",
	"handler/testdata/http/post-primary.json":                                "HTTP 409 Conflict",
	"handler/testdata/http/post-query-conflict.json":                         "HTTP 400 InvalidRequest (query.wait)",
	"handler/testdata/http/post-wait-false.json":                             "HTTP 202 Pending",
}

// summarise is one line for what a `local` run answered: for an HTTP
// trigger event "HTTP <status> " first; then the outcomes in order, each
// with its count when more than one ("Detached ×2"), or "ignored", or the
// top-level error code with the fields it names.
func summarise(run localRun) (string, error) {
	var resp eventschema.Response
	prefix := ""
	switch out := run.out.(type) {
	case eventschema.Response:
		resp = out
	case events.HTTPTriggerResponse:
		prefix = fmt.Sprintf("HTTP %d ", out.StatusCode)
		if err := json.Unmarshal([]byte(out.Body), &resp); err != nil {
			return "", fmt.Errorf("HTTP body is not a response: %w: %s", err, out.Body)
		}
	default:
		return "", fmt.Errorf("unexpected answer %T: %v (error %v)", run.out, run.out, run.err)
	}
	switch {
	case len(resp.Results) > 0:
		var order []eventschema.Outcome
		count := map[eventschema.Outcome]int{}
		for _, r := range resp.Results {
			if count[r.Outcome] == 0 {
				order = append(order, r.Outcome)
			}
			count[r.Outcome]++
		}
		parts := make([]string, len(order))
		for i, o := range order {
			parts[i] = string(o)
			if count[o] > 1 {
				parts[i] += fmt.Sprintf(" ×%d", count[o])
			}
		}
		return prefix + strings.Join(parts, ", "), nil
	case resp.Error != nil:
		s := prefix + resp.Error.Code
		var fields []string
		for _, f := range resp.Error.Fields {
			fields = append(fields, f.Field)
		}
		if len(fields) > 0 {
			s += " (" + strings.Join(fields, ", ") + ")"
		}
		return s, nil
	case resp.Ignored != "":
		return prefix + "ignored", nil
	default:
		return "", fmt.Errorf("empty response %+v", resp)
	}
}

// sampleFiles lists every JSON file under sampleDirs, slash-separated and
// relative to the repository.
func sampleFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, dir := range sampleDirs {
		err := filepath.WalkDir(filepath.Join(repoRoot, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".json") {
				return err
			}
			rel, err := filepath.Rel(repoRoot, path)
			files = append(files, filepath.ToSlash(rel))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	sort.Strings(files)
	return files
}

// TestSamplePayloads runs every sample payload through `local` (the same
// code path as `go run . local --event FILE`) and checks the answer and
// the exit status against samples, and the READMEs against samples.
func TestSamplePayloads(t *testing.T) {
	files := sampleFiles(t)
	for _, f := range files {
		if _, ok := samples[f]; !ok {
			t.Errorf("%s has no row in samples (internal/cli/samples_test.go): add what `local` answers for it", f)
		}
	}
	for f := range samples {
		if !slices.Contains(files, f) {
			t.Errorf("samples names %s, which does not exist", f)
		}
	}
	t.Run("readmes", func(t *testing.T) { checkSampleReadmes(t, files) })
	for _, f := range files {
		want, ok := samples[f]
		if !ok {
			continue
		}
		t.Run(f, func(t *testing.T) {
			t.Parallel()
			payload, err := os.ReadFile(filepath.Join(repoRoot, f))
			if err != nil {
				t.Fatal(err)
			}
			var logs strings.Builder
			run, err := execLocal(localOptions{payload: payload, detachDelay: 100 * time.Millisecond, getenv: noEnv}, &logs)
			if err != nil {
				t.Fatal(err)
			}
			got, err := summarise(run)
			if err != nil {
				t.Fatal(err)
			}
			if got != want || run.exitCode() != 0 {
				t.Fatalf("local --event %s: %q, exit %d; want %q, exit 0\nerror: %v\n%s", f, got, run.exitCode(), want, run.err, logs.String())
			}
		})
	}
}

// noEnv keeps the developer's environment (a DRY_RUN=true, say) out of
// tests that assert what `local` answers.
func noEnv(string) string { return "" }
