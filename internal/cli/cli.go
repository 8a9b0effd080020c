// Package cli is the terminal side of the binary: `local` and `detach`.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/eni-detach/eni-detach/internal/config"
)

// usage is the top-level help. The synopses are the commands' own, so the
// two cannot disagree.
var usage = `eni-detach — detach Alibaba Cloud ENIs and report when they really are detached.

Under Function Compute (FC_RUNTIME_API set) the binary serves invocations.
From a terminal:

  ` + strings.TrimPrefix(localUsage, "usage: ") + `
        run the function against embedded ECS and EventBridge emulators
        seeded with a demo instance and the sample payloads' instance;
        prints the response, the final ENI states and the follow-up events
        the bus received. Exit status 0 when the function answered, 1 when
        it returned an error, 2 for a usage error
  ` + strings.TrimPrefix(detachUsage, "usage: ") + `
        run the same engine against the real cloud with the credentials in
        ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET (/ _SECURITY_TOKEN). Exit
        status 0 when every ENI ended Detached, AlreadyDetached, DryRun or
        Pending, 1 otherwise, 2 for a usage error
  eni-detach help [COMMAND]

Run 'eni-detach COMMAND --help' for a command's flags. The configuration
comes from the environment as on FC (README "Configuration"), e.g.
DETACH_TIMEOUT, ENI_TAG_SELECTOR, DRY_RUN, and LOG_LEVEL: one of
` + strings.Join(config.LogLevels, ", ") + `.
`

// Run executes a command and returns the process exit code: 0 success,
// 1 the command ran and something failed, 2 usage error.
func Run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "local":
		return runLocal(args[1:], stdin, stdout, stderr)
	case "detach":
		return runDetach(args[1:], stdout, stderr)
	case "help", "-h", "--help", "-help":
		return runHelp(args[1:], stdin, stdout, stderr)
	default:
		fmt.Fprintf(stderr, "unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}

// runHelp prints the top-level help, or a command's.
func runHelp(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	switch {
	case len(args) == 0:
		fmt.Fprint(stdout, usage)
		return 0
	case len(args) == 1 && (args[0] == "local" || args[0] == "detach"):
		return Run([]string{args[0], "--help"}, stdin, stdout, stderr)
	default:
		fmt.Fprintf(stderr, "help: unknown command %q (commands: local, detach)\n", strings.Join(args, " "))
		return 2
	}
}

// parseFlags parses a command's flags; ok false means exit with code (0
// after --help, 2 for a bad flag or a stray argument).
func parseFlags(fs *flag.FlagSet, args []string) (code int, ok bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0, false
		}
		return 2, false
	}
	if fs.NArg() > 0 {
		return usageError(fs, "unexpected argument %q (flags start with --; see --help)", fs.Arg(0)), false
	}
	return 0, true
}

// usageError reports a usage problem with the command's synopsis, and
// returns the exit code for it.
func usageError(fs *flag.FlagSet, format string, args ...any) int {
	synopsis := map[string]string{"local": localUsage, "detach": detachUsage}[fs.Name()]
	fmt.Fprintf(fs.Output(), "%s: %s\n%s\n(eni-detach %s --help for details)\n",
		fs.Name(), fmt.Sprintf(format, args...), synopsis, fs.Name())
	return 2
}
