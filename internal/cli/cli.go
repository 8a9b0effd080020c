// Package cli is the terminal side of the binary: `local` and `detach`.
package cli

import (
	"fmt"
	"io"
	"strings"
)

const usage = `eni-detach — detach Alibaba Cloud ENIs and report when they really are detached.

Under Function Compute (FC_RUNTIME_API set) the binary serves invocations.
From a terminal:

  eni-detach local  [--event FILE] [--detach-delay D]
        run the function against embedded ECS and EventBridge emulators
        seeded with a demo instance; prints the results, the final ENI
        states and the follow-up events the bus received
  eni-detach detach --region R --eni ID [--instance ID] [--dry-run] [--no-wait]
        run the same engine against the real cloud with the credentials in
        ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET (/ _SECURITY_TOKEN)

Run 'eni-detach COMMAND --help' for a command's flags. Configuration comes
from the environment (see README: DETACH_TIMEOUT, ENI_TAG_SELECTOR, …).
`

// Run executes a command and returns the process exit code: 0 success,
// 1 the command ran and something failed, 2 usage error.
func Run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "local":
		return runLocal(args[1:], stdout, stderr)
	case "detach":
		return runDetach(args[1:], stdout, stderr)
	case "help", "-h", "--help", "-help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}

func isHelp(err error) bool { return err != nil && strings.Contains(err.Error(), "help requested") }
