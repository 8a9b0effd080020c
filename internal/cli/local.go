package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aliyun/fc-runtime-go-sdk/fccontext"

	"github.com/eni-detach/eni-detach/internal/app"
	"github.com/eni-detach/eni-detach/internal/config"
	ecsemu "github.com/eni-detach/eni-detach/internal/emulator/ecs"
	ebemu "github.com/eni-detach/eni-detach/internal/emulator/eventbridge"
)

// Local mode's fixed names.
const (
	localBus       = "eni-detach-demo"
	localAccountID = "1234567890123456"
	localFunction  = "eni-detach"
	localTimeout   = 180 * time.Second
)

// defaultLocalEvent detaches the first demo secondary ENI.
var defaultLocalEvent = `{"RegionId":"` + ecsemu.DemoRegion + `","NetworkInterfaceId":"` + ecsemu.DemoSecondaryENI +
	`","InstanceId":"` + ecsemu.DemoInstanceID + `"}`

func runLocal(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("local", flag.ContinueOnError)
	fs.SetOutput(stderr)
	eventFile := fs.String("event", "", "payload file to invoke with (a request object, a CloudEvent, a batch or an HTTP trigger event); default: detach "+ecsemu.DemoSecondaryENI)
	delay := fs.Duration("detach-delay", 2*time.Second, "how long the emulated ENI stays Detaching")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: eni-detach local [--event FILE] [--detach-delay D]\n\n"+
			"Starts an ECS and an EventBridge emulator on 127.0.0.1, seeds instance %s with a primary ENI\n"+
			"(%s) and two secondary ENIs (%s, %s; tagged team=sre), invokes the\n"+
			"function's handler once and prints its response, the final ENI states and the follow-up events the bus\n"+
			"received. Logs (JSON) go to stderr. Environment variables configure the function as in production,\n"+
			"except that ECS_ENDPOINT, EVENTBRIDGE_ENDPOINT and EVENT_BUS_NAME point at the emulators.\n\n",
			ecsemu.DemoInstanceID, ecsemu.DemoPrimaryENI, ecsemu.DemoSecondaryENI, ecsemu.DemoSecondary2)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if isHelp(err) {
			return 0
		}
		return 2
	}
	payload := []byte(defaultLocalEvent)
	if *eventFile != "" {
		b, err := os.ReadFile(*eventFile)
		if err != nil {
			fmt.Fprintln(stderr, "local:", err)
			return 2
		}
		payload = b
	}

	ecs, err := ecsemu.Start(ecsemu.WithDetachDelay(*delay))
	if err != nil {
		fmt.Fprintln(stderr, "local: starting the ECS emulator:", err)
		return 1
	}
	defer ecs.Close()
	demo := ecs.SeedDemo()
	eb := ebemu.New()
	if err := eb.Start(""); err != nil {
		fmt.Fprintln(stderr, "local: starting the EventBridge emulator:", err)
		return 1
	}
	defer eb.Close()
	eb.AddCredentials(demo.Credentials)
	eb.AddBus(localBus)

	overrides := map[string]string{
		config.EnvECSEndpoint:         ecs.URL(),
		config.EnvEventBridgeEndpoint: eb.URL(),
		config.EnvEventBusName:        localBus,
	}
	getenv := func(k string) string {
		if v, ok := overrides[k]; ok {
			return v
		}
		return os.Getenv(k)
	}
	h, cfgErr := app.New(getenv, stderr, app.Options{})
	if cfgErr != nil {
		fmt.Fprintln(stderr, "local:", cfgErr)
		return 2
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
	out, invErr := h.Invoke(ctx, payload)
	took := time.Since(start)

	fmt.Fprintf(stdout, "== response (%s) ==\n", took.Round(time.Millisecond))
	code := printOutcome(stdout, stderr, out, invErr)
	fmt.Fprintln(stdout, "\n== ENI states in the ECS emulator ==")
	printENIs(stdout, ecs.ENIs())
	fmt.Fprintf(stdout, "\n== follow-up events received by bus %q ==\n", localBus)
	events := eb.EventsForBus(localBus)
	if len(events) == 0 {
		fmt.Fprintln(stdout, "(none)")
	}
	for _, ev := range events {
		var v any
		if json.Unmarshal(ev.Event, &v) == nil {
			b, _ := json.MarshalIndent(v, "", "  ")
			fmt.Fprintln(stdout, string(b))
		}
	}
	return code
}

func printENIs(w io.Writer, enis []ecsemu.ENI) {
	sort.Slice(enis, func(i, j int) bool { return enis[i].ID < enis[j].ID })
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ENI\tTYPE\tSTATUS\tINSTANCE\tTAGS")
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
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", e.ID, e.Type, e.Status, inst, strings.Join(tags, ","))
	}
	tw.Flush()
}
