package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aliyun/fc-runtime-go-sdk/events"
	"github.com/aliyun/fc-runtime-go-sdk/fccontext"

	"github.com/eni-detach/eni-detach/handler"
	"github.com/eni-detach/eni-detach/internal/app"
	"github.com/eni-detach/eni-detach/internal/config"
	"github.com/eni-detach/eni-detach/internal/detach"
	ecsemu "github.com/eni-detach/eni-detach/internal/emulator/ecs"
	ebemu "github.com/eni-detach/eni-detach/internal/emulator/eventbridge"
	stsemu "github.com/eni-detach/eni-detach/internal/emulator/sts"
)

// Local mode's fixed names.
const (
	localBus       = "eni-detach-demo"
	localAccountID = "1234567890123456"
	localFunction  = "eni-detach"
	localTimeout   = 180 * time.Second
	// defaultDetachDelay is how long an emulated ENI stays Detaching
	// unless --detach-delay says otherwise.
	defaultDetachDelay = 2 * time.Second
)

// defaultLocalEvent detaches the first demo secondary ENI.
var defaultLocalEvent = `{"RegionId":"` + ecsemu.DemoRegion + `","NetworkInterfaceId":"` + ecsemu.DemoSecondaryENI +
	`","InstanceId":"` + ecsemu.DemoInstanceID + `"}`

const localUsage = "usage: eni-detach local [--event FILE|-] [--detach-delay D] [--ecs-error CODE] [--cross-account]"

// localOptions is one `local` run: the parsed flags, plus what tests adjust.
type localOptions struct {
	payload     []byte
	detachDelay time.Duration
	ecsError    string // injected into every DetachNetworkInterface call
	// crossAccount adds an STS emulator and a member account whose role
	// the function assumes (local_cross.go).
	crossAccount bool
	getenv       func(string) string
	policy       func(*detach.Policy)
}

// localRun is what one `local` invocation produced.
type localRun struct {
	out    any   // what the handler returned (events.HTTPTriggerResponse for an HTTP trigger event)
	err    error // what the handler returned to FC
	took   time.Duration
	enis   []ecsemu.ENI
	events []json.RawMessage // the follow-up events the bus received
	// sts is the STS emulator's call log; nil unless --cross-account.
	sts []stsemu.Call
}

// exitCode of `local`: 0 when the function answered (whatever it answered:
// an HTTP status or a response says the rest), 1 when it returned an error
// to FC. Usage errors (2) never get this far.
func (r localRun) exitCode() int {
	if r.err != nil {
		return 1
	}
	return 0
}

func runLocal(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	opts, code, ok := parseLocal(args, stdin, stderr)
	if !ok {
		return code
	}
	run, err := execLocal(opts, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "local:", err)
		if errors.Is(err, config.ErrInvalidConfiguration) {
			return 2 // the environment given to local is wrong: fix it and run again
		}
		return 1
	}
	printLocal(stdout, run)
	return run.exitCode()
}

// parseLocal reads the flags; ok false means exit with code.
func parseLocal(args []string, stdin io.Reader, stderr io.Writer) (o localOptions, code int, ok bool) {
	fs := flag.NewFlagSet("local", flag.ContinueOnError)
	fs.SetOutput(stderr)
	eventFile := fs.String("event", "", "payload file to invoke with (a request object, a CloudEvent, a batch or an HTTP trigger event); - reads standard input; default: detach "+ecsemu.DemoSecondaryENI)
	fs.DurationVar(&o.detachDelay, "detach-delay", defaultDetachDelay, "how long an emulated ENI stays Detaching")
	fs.StringVar(&o.ecsError, "ecs-error", "", "make every DetachNetworkInterface call of the ECS emulator fail with this error code, e.g. ServiceUnavailable, Forbidden.RAM, InvalidOperation.EniHotPlugNotSupported")
	fs.BoolVar(&o.crossAccount, "cross-account", false, "add a member account "+ecsemu.MemberAccount+" with instance "+ecsemu.MemberInstanceID+" and the role the function assumes there (an STS emulator); default: an ECS event of that account routed to the function")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "%s\n\n"+
			"Starts an ECS and an EventBridge emulator on 127.0.0.1 and seeds them with two Running instances:\n"+
			"  %s: primary %s, secondaries %s and %s (tagged %s=%s)\n"+
			"  %s: primary %s, secondaries %s and %s (tagged %s=%s),\n"+
			"    the instance and ENIs of the sample payloads in eventschema/testdata and handler/testdata/http.\n"+
			"Invokes the function's handler once and prints its response (for an HTTP trigger event: the status,\n"+
			"headers and body), the final ENI states and the follow-up events the bus received. Logs (JSON) go to\n"+
			"stderr. Environment variables configure the function as in production, except that ECS_ENDPOINT,\n"+
			"EVENTBRIDGE_ENDPOINT and EVENT_BUS_NAME point at the emulators.\n\n"+
			"Exit status: 0 the function answered (any HTTP status, any outcome), 1 it returned an error (the\n"+
			"invocation FC would retry), 2 usage error.\n\n",
			localUsage,
			ecsemu.DemoInstanceID, ecsemu.DemoPrimaryENI, ecsemu.DemoSecondaryENI, ecsemu.DemoSecondary2, ecsemu.DemoTagKey, ecsemu.DemoTagValue,
			ecsemu.FixtureInstanceID, ecsemu.FixturePrimaryENI, ecsemu.FixtureSecondaryENI, ecsemu.FixtureSecondary2,
			ecsemu.FixtureTagKey, ecsemu.FixtureTagValue)
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args); !ok {
		return o, code, false
	}
	if o.detachDelay < 0 {
		return o, usageError(fs, "--detach-delay must not be negative, got %s", o.detachDelay), false
	}
	o.payload = []byte(defaultLocalEvent)
	if o.crossAccount {
		o.payload = []byte(defaultMemberEvent)
	}
	if *eventFile != "" {
		var b []byte
		var err error
		if *eventFile == "-" {
			b, err = io.ReadAll(stdin)
		} else {
			b, err = os.ReadFile(*eventFile)
		}
		if err != nil {
			fmt.Fprintln(stderr, "local:", err)
			return o, 2, false
		}
		o.payload = b
	}
	return o, 0, true
}

// execLocal starts the emulators, seeds them and invokes the handler once.
// Its error is about local mode itself (an emulator that cannot start, an
// invalid configuration), never about the invocation.
func execLocal(o localOptions, logs io.Writer) (localRun, error) {
	ecs, err := ecsemu.Start(ecsemu.WithDetachDelay(o.detachDelay))
	if err != nil {
		return localRun{}, fmt.Errorf("starting the ECS emulator: %w", err)
	}
	defer ecs.Close()
	demo := ecs.SeedDemo()
	ecs.SeedFixtures()
	if o.ecsError != "" {
		ecs.InjectError("DetachNetworkInterface", o.ecsError, injectedStatus(o.ecsError), -1)
	}
	eb := ebemu.New()
	if err := eb.Start(""); err != nil {
		return localRun{}, fmt.Errorf("starting the EventBridge emulator: %w", err)
	}
	defer eb.Close()
	eb.AddCredentials(demo.Credentials)
	eb.AddBus(localBus)

	overrides := map[string]string{
		config.EnvECSEndpoint:         ecs.URL(),
		config.EnvEventBridgeEndpoint: eb.URL(),
		config.EnvEventBusName:        localBus,
	}
	env := o.getenv
	if env == nil {
		env = os.Getenv
	}
	var sts *stsemu.Server
	if o.crossAccount {
		if sts, err = startMemberAccount(ecs, overrides, env); err != nil {
			return localRun{}, err
		}
		defer sts.Close()
	}
	getenv := func(k string) string {
		if v, ok := overrides[k]; ok {
			return v
		}
		return env(k)
	}
	h, cfgErr := app.New(getenv, logs, app.Options{Policy: o.policy})
	if cfgErr != nil {
		return localRun{}, cfgErr
	}

	ctx, cancel := context.WithTimeout(context.Background(), localTimeout)
	defer cancel()
	ctx = fccontext.NewContext(ctx, &fccontext.FcContext{
		RequestID: fmt.Sprintf("local-%d", time.Now().UnixNano()),
		Credentials: fccontext.Credentials{
			AccessKeyId:     demo.Credentials.AccessKeyID,
			AccessKeySecret: demo.Credentials.AccessKeySecret,
			SecurityToken:   demo.Credentials.SecurityToken,
		},
		Function:  fccontext.Function{Name: localFunction, Timeout: int(localTimeout / time.Second)},
		Region:    demo.Region,
		AccountId: localAccountID,
	})
	start := time.Now()
	out, invErr := h.Invoke(ctx, o.payload)
	run := localRun{out: out, err: invErr, took: time.Since(start), enis: ecs.ENIs()}
	if sts != nil {
		run.sts = sts.Calls()
	}
	for _, ev := range eb.EventsForBus(localBus) {
		run.events = append(run.events, json.RawMessage(ev.Event))
	}
	return run, nil
}

// injectedStatus is the HTTP status ECS answers a code with, near enough
// for the function's classification (which reads the code first).
func injectedStatus(code string) int {
	switch {
	case code == "ServiceUnavailable":
		return 503
	case code == "InternalError" || code == "UnknownError":
		return 500
	case strings.HasPrefix(code, "Forbidden") || strings.HasPrefix(code, "InvalidSecurityToken"):
		return 403
	case strings.HasSuffix(code, ".NotFound"):
		return 404
	default:
		return 400
	}
}

// printLocal prints the answer, the ENIs' final states and the events.
func printLocal(w io.Writer, run localRun) {
	took := run.took.Round(time.Millisecond)
	if resp, ok := run.out.(events.HTTPTriggerResponse); ok {
		fmt.Fprintf(w, "== response: HTTP %d (%s) ==\n", resp.StatusCode, took)
		keys := make([]string, 0, len(resp.Headers))
		for k := range resp.Headers {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(w, "%s: %s\n", k, resp.Headers[k])
		}
		fmt.Fprintln(w, indentJSON(json.RawMessage(resp.Body)))
	} else {
		fmt.Fprintf(w, "== response (%s) ==\n", took)
		if run.out != nil {
			fmt.Fprintln(w, indentJSON(run.out))
		}
	}
	if run.err != nil {
		reason := run.err.Error()
		var re *handler.RetryableError
		if errors.As(run.err, &re) {
			reason = re.Reason // the response is printed above
		}
		fmt.Fprintf(w, "\n== error returned to FC (an asynchronous invocation would be retried) ==\n%s\n", reason)
	}
	if run.sts != nil {
		printSTS(w, run.sts)
	}
	fmt.Fprintln(w, "\n== ENI states in the ECS emulator ==")
	printENIs(w, run.enis, run.sts != nil)
	fmt.Fprintf(w, "\n== follow-up events received by bus %q ==\n", localBus)
	if len(run.events) == 0 {
		fmt.Fprintln(w, "(none)")
	}
	for _, ev := range run.events {
		fmt.Fprintln(w, indentJSON(ev))
	}
}

// indentJSON renders v as indented JSON, keeping the order of raw JSON
// (what the function or the bus sent); raw text that is not JSON is
// returned as it is.
func indentJSON(v any) string {
	raw, ok := v.(json.RawMessage)
	if !ok {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return fmt.Sprint(v)
		}
		return string(b)
	}
	var buf bytes.Buffer
	if json.Indent(&buf, raw, "", "  ") != nil {
		return string(raw)
	}
	return buf.String()
}

// printENIs prints the ENI table, with the owner account when the run had
// several.
func printENIs(w io.Writer, enis []ecsemu.ENI, accounts bool) {
	sort.Slice(enis, func(i, j int) bool { return enis[i].ID < enis[j].ID })
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	header := "ENI\tTYPE\tSTATUS\tINSTANCE\tTAGS"
	if accounts {
		header = "ACCOUNT\t" + header
	}
	fmt.Fprintln(tw, header)
	for _, e := range enis {
		var tags []string
		for k, v := range e.Tags {
			tags = append(tags, k+"="+v)
		}
		sort.Strings(tags)
		inst := e.InstanceID
		if inst == "" {
			inst = "-"
		}
		if accounts {
			fmt.Fprintf(tw, "%s\t", e.Account)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", e.ID, e.Type, e.Status, inst, strings.Join(tags, ","))
	}
	tw.Flush()
}
