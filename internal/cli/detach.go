package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/aliyun/fc-runtime-go-sdk/fccontext"

	"github.com/eni-detach/eni-detach/eventschema"
	"github.com/eni-detach/eni-detach/handler"
	"github.com/eni-detach/eni-detach/internal/app"
)

const detachUsage = "usage: eni-detach detach --region R (--eni ID [--instance ID] | --instance ID) [--dry-run] [--no-wait] [--timeout D]"

func runDetach(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("detach", flag.ContinueOnError)
	fs.SetOutput(stderr)
	region := fs.String("region", "", "region id, e.g. cn-hangzhou (required)")
	eni := fs.String("eni", "", "ENI id to detach (eni-…)")
	instance := fs.String("instance", "", "instance id (i-…): with --eni, the instance it must be attached to; alone, detach all its eligible secondary ENIs")
	dryRun := fs.Bool("dry-run", false, "look and decide, never call DetachNetworkInterface")
	noWait := fs.Bool("no-wait", false, "return once ECS accepted the detach (outcome Pending)")
	timeout := fs.Duration("timeout", 0, "overall deadline; 0: DETACH_TIMEOUT + 10s")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "%s\n\n"+
			"Detaches with the credentials in ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET (/ _SECURITY_TOKEN) and prints\n"+
			"the function's response. Exit status 0 when every ENI ended Detached, AlreadyDetached, DryRun or Pending,\n"+
			"1 otherwise, 2 for a usage error.\n\n", detachUsage)
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if *timeout < 0 {
		return usageError(fs, "--timeout must not be negative, got %s", *timeout)
	}
	req := eventschema.Request{RegionID: *region, NetworkInterfaceID: *eni, InstanceID: *instance}
	if *dryRun {
		req.DryRun = dryRun
	}
	if *noWait {
		f := false
		req.Wait = &f
	}
	if *region == "" {
		return usageError(fs, "--region is required")
	}
	if *eni == "" && *instance == "" {
		return usageError(fs, "--eni or --instance is required")
	}
	if err := req.Validate(); err != nil {
		return usageError(fs, "%v", err)
	}
	if os.Getenv("ALIBABA_CLOUD_ACCESS_KEY_ID") == "" || os.Getenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET") == "" {
		fmt.Fprintln(stderr, "detach: set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET (and ALIBABA_CLOUD_SECURITY_TOKEN for STS credentials)")
		return 2
	}
	h, cfgErr := app.New(os.Getenv, stderr, app.Options{})
	if cfgErr != nil {
		fmt.Fprintln(stderr, "detach:", cfgErr)
		return 2
	}
	d := *timeout
	if d <= 0 {
		d = h.Config().DetachTimeout + 10*time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	ctx = fccontext.NewContext(ctx, &fccontext.FcContext{
		RequestID: fmt.Sprintf("cli-%d", time.Now().UnixNano()),
		Region:    *region,
	})
	payload, _ := json.Marshal(req)
	out, err := h.Invoke(ctx, payload)
	return printDetach(stdout, stderr, out, err)
}

// printDetach prints the response and turns it into an exit code.
func printDetach(stdout, stderr io.Writer, out any, err error) int {
	if err != nil {
		msg := err.Error()
		var re *handler.RetryableError
		if errors.As(err, &re) {
			msg = re.Reason // the whole response follows on stdout
		}
		fmt.Fprintln(stderr, "error:", msg)
	}
	if out != nil {
		b, _ := json.MarshalIndent(out, "", "  ")
		fmt.Fprintln(stdout, string(b))
	}
	resp, ok := out.(eventschema.Response)
	if err != nil || !ok || resp.Error != nil {
		return 1
	}
	for _, r := range resp.Results {
		switch r.Outcome {
		case eventschema.OutcomeDetached, eventschema.OutcomeAlreadyDetached, eventschema.OutcomeDryRun, eventschema.OutcomePending:
		default:
			return 1
		}
	}
	return 0
}
