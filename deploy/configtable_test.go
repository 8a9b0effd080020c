package deploy_test

import (
	"bufio"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/eni-detach/eni-detach/internal/config"
)

// readmeConfigTable returns the rows of the README's Configuration table:
// variable name → its default cell, as written.
func readmeConfigTable(readme string) map[string]string {
	rows := map[string]string{}
	in := false
	sc := bufio.NewScanner(strings.NewReader(readme))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "## ") {
			in = line == "## Configuration"
			continue
		}
		if !in || !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(line, " | ")
		if len(cells) < 3 {
			continue
		}
		rows[strings.Trim(strings.TrimPrefix(cells[0], "| "), "`")] = cells[1]
	}
	return rows
}

// configTableProblems holds the README's Configuration table (rows) to the
// function: the same variables as config.Load reads and as s.yaml's checks
// know (requiredEnv, optionalEnv), and every default written as a plain
// value is the one the function uses when the variable is unset (setting
// a variable to its documented default changes nothing).
func configTableProblems(rows map[string]string) []string {
	var read []string
	unset, _ := config.Load(func(k string) string { read = append(read, k); return "" })
	var problems []string
	for _, k := range read {
		if _, ok := rows[k]; !ok {
			problems = append(problems, k+": read by the function, not in the README's Configuration table")
		}
	}
	for k, def := range rows {
		if !slices.Contains(read, k) {
			problems = append(problems, k+": in the README's Configuration table, not read by the function")
		}
		if !slices.Contains(requiredEnv, k) && !slices.Contains(optionalEnv, k) {
			problems = append(problems, k+": not in requiredEnv or optionalEnv, the s.yaml checks' lists")
		}
		// A plain value: one code span, no placeholder.
		v, ok := strings.CutPrefix(def, "`")
		if !ok || !strings.HasSuffix(v, "`") || strings.ContainsAny(v[:len(v)-1], "`{") {
			continue
		}
		v = strings.TrimSuffix(v, "`")
		got, err := config.Load(func(name string) string {
			if name == k {
				return v
			}
			return ""
		})
		if err != nil || !reflect.DeepEqual(got, unset) {
			problems = append(problems, fmt.Sprintf("%s: the README's default %q is not what the function uses when it is unset (%v)", k, v, err))
		}
	}
	slices.Sort(problems)
	return problems
}

func TestReadmeConfigurationTableMatchesTheFunction(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := readmeConfigTable(string(readme))
	if len(rows) < 10 {
		t.Fatalf("found only %d rows in the README's Configuration table: %v", len(rows), rows)
	}
	for _, p := range configTableProblems(rows) {
		t.Error(p)
	}
}

// TestConfigurationTableChecksCanFail breaks the real table one way at a
// time; each must be reported.
func TestConfigurationTableChecksCanFail(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		edit func(rows map[string]string)
		want string
	}{
		{"row missing", func(r map[string]string) { delete(r, "ECS_QUOTA_WINDOW") }, "ECS_QUOTA_WINDOW: read by the function, not in the README"},
		{"row the function does not read", func(r map[string]string) { r["DETACH_RETRIES"] = "`3`" }, "DETACH_RETRIES: in the README's Configuration table, not read by the function"},
		{"wrong duration default", func(r map[string]string) { r["DETACH_TIMEOUT"] = "`60s`" }, `DETACH_TIMEOUT: the README's default "60s"`},
		{"wrong boolean default", func(r map[string]string) { r["DRY_RUN"] = "`true`" }, `DRY_RUN: the README's default "true"`},
		{"default the function refuses", func(r map[string]string) { r["LOG_LEVEL"] = "`verbose`" }, `LOG_LEVEL: the README's default "verbose"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows := readmeConfigTable(string(readme))
			tt.edit(rows)
			problems := configTableProblems(rows)
			if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, tt.want) }) {
				t.Errorf("problems %q lack %q", problems, tt.want)
			}
		})
	}
}
