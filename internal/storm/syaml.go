package storm

import (
	"fmt"
	"os"
	"regexp"
	"time"

	"go.yaml.in/yaml/v3"
)

// Function is what the storm takes from the deployed function's s.yaml:
// how FC runs it and retries it, and its environment.
type Function struct {
	Name                string
	Region              string
	Memory              int // MB
	Timeout             time.Duration
	InstanceConcurrency int
	// MaxAsyncRetries is asyncInvokeConfig.maxAsyncRetryAttempts: how many
	// times FC invokes again after an invocation returned an error.
	MaxAsyncRetries int
	// MaxEventAge is asyncInvokeConfig.maxAsyncEventAgeInSeconds: FC
	// starts no attempt on an event older than this.
	MaxEventAge time.Duration
	// Env is environmentVariables, with ${vars.x} resolved.
	Env map[string]string
}

type syamlFile struct {
	Vars      map[string]any `yaml:"vars"`
	Resources map[string]struct {
		Component string     `yaml:"component"`
		Props     syamlProps `yaml:"props"`
	} `yaml:"resources"`
}

type syamlProps struct {
	FunctionName         string            `yaml:"functionName"`
	Region               string            `yaml:"region"`
	MemorySize           int               `yaml:"memorySize"`
	Timeout              int               `yaml:"timeout"`
	InstanceConcurrency  int               `yaml:"instanceConcurrency"`
	EnvironmentVariables map[string]string `yaml:"environmentVariables"`
	AsyncInvokeConfig    struct {
		MaxAsyncRetryAttempts     *int `yaml:"maxAsyncRetryAttempts"`
		MaxAsyncEventAgeInSeconds int  `yaml:"maxAsyncEventAgeInSeconds"`
	} `yaml:"asyncInvokeConfig"`
}

var varRef = regexp.MustCompile(`\$\{vars\.([A-Za-z_][A-Za-z0-9_]*)\}`)

// FC's own defaults, for what s.yaml leaves out (FC 3.0 documentation:
// async retries 3, event age 86400 s; instanceConcurrency 1).
const (
	fcDefaultAsyncRetries = 3
	fcDefaultEventAge     = 86400 * time.Second
)

// LoadFunction reads the single fc3 function of a Serverless Devs project
// file.
func LoadFunction(path string) (Function, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Function{}, err
	}
	var f syamlFile
	if err := yaml.Unmarshal(b, &f); err != nil {
		return Function{}, fmt.Errorf("%s: %w", path, err)
	}
	var props *syamlProps
	for name, r := range f.Resources {
		if r.Component != "fc3" {
			continue
		}
		if props != nil {
			return Function{}, fmt.Errorf("%s: more than one fc3 function (%s)", path, name)
		}
		p := r.Props
		props = &p
	}
	if props == nil {
		return Function{}, fmt.Errorf("%s: no fc3 function", path)
	}
	var bad error
	resolve := func(s string) string {
		return varRef.ReplaceAllStringFunc(s, func(ref string) string {
			name := varRef.FindStringSubmatch(ref)[1]
			v, ok := f.Vars[name]
			if !ok && bad == nil {
				bad = fmt.Errorf("%s: %s: no such var", path, ref)
			}
			return fmt.Sprint(v)
		})
	}
	fn := Function{
		Name:                resolve(props.FunctionName),
		Region:              resolve(props.Region),
		Memory:              props.MemorySize,
		Timeout:             time.Duration(props.Timeout) * time.Second,
		InstanceConcurrency: max(props.InstanceConcurrency, 1),
		MaxAsyncRetries:     fcDefaultAsyncRetries,
		MaxEventAge:         fcDefaultEventAge,
		Env:                 map[string]string{},
	}
	if n := props.AsyncInvokeConfig.MaxAsyncRetryAttempts; n != nil {
		fn.MaxAsyncRetries = *n
	}
	if s := props.AsyncInvokeConfig.MaxAsyncEventAgeInSeconds; s > 0 {
		fn.MaxEventAge = time.Duration(s) * time.Second
	}
	for k, v := range props.EnvironmentVariables {
		fn.Env[k] = resolve(v)
	}
	if fn.Timeout <= 0 {
		return Function{}, fmt.Errorf("%s: the function has no timeout", path)
	}
	return fn, bad
}
