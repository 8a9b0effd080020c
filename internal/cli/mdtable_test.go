package cli

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the README parts these tests check from what they saw")

// localColumn heads the README column that says what `local` answers for a
// sample payload.
const localColumn = "under `local`"

// splitRow splits a Markdown table row into trimmed cells; ok false when
// the line is not a row.
func splitRow(line string) (cells []string, ok bool) {
	line = strings.TrimSpace(line)
	if !strings.HasPrefix(line, "|") || !strings.HasSuffix(line, "|") || len(line) < 2 {
		return nil, false
	}
	for _, c := range strings.Split(line[1:len(line)-1], "|") {
		cells = append(cells, strings.TrimSpace(c))
	}
	return cells, true
}

func joinRow(cells []string) string { return "| " + strings.Join(cells, " | ") + " |" }

// localCells finds, in a README, the localColumn cell of the row of each
// file (first cell `name`), and can set it. The README is rewritten only
// by save.
type localCells struct {
	path  string
	lines []string
	rows  map[string]int // file name → line index
	col   map[string]int // file name → index of the localColumn (-1: no such column)
}

func readLocalCells(t *testing.T, path string) *localCells {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (every sample directory needs a README with a row per file)", err)
	}
	lc := &localCells{path: path, lines: strings.Split(string(b), "\n"), rows: map[string]int{}, col: map[string]int{}}
	var header []string
	for i, line := range lc.lines {
		cells, ok := splitRow(line)
		if !ok {
			header = nil
			continue
		}
		if header == nil {
			header = cells
			continue
		}
		if len(cells) == 0 || !strings.HasPrefix(cells[0], "`") {
			continue
		}
		name := strings.Trim(cells[0], "`")
		lc.rows[name] = i
		lc.col[name] = -1
		for j, h := range header {
			if h == localColumn {
				lc.col[name] = j
			}
		}
	}
	return lc
}

// get returns the file's cell without its backticks; ok false when the
// file has no row or its table no localColumn.
func (lc *localCells) get(name string) (string, bool) {
	i, ok := lc.rows[name]
	if !ok || lc.col[name] < 0 {
		return "", false
	}
	cells, _ := splitRow(lc.lines[i])
	if lc.col[name] >= len(cells) {
		return "", true
	}
	return strings.Trim(cells[lc.col[name]], "`"), true
}

// set writes the file's cell; false when the row or column is missing
// (a row must be written by hand: it also says what the file is).
func (lc *localCells) set(name, value string) bool {
	i, ok := lc.rows[name]
	if !ok || lc.col[name] < 0 {
		return false
	}
	cells, _ := splitRow(lc.lines[i])
	for len(cells) <= lc.col[name] {
		cells = append(cells, "")
	}
	cells[lc.col[name]] = "`" + value + "`"
	lc.lines[i] = joinRow(cells)
	return true
}

func (lc *localCells) save(t *testing.T) {
	t.Helper()
	if err := os.WriteFile(lc.path, []byte(strings.Join(lc.lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
}

// checkSampleReadmes holds the README beside each sample to samples: a
// row per file, and its localColumn cell equal to samples' entry.
func checkSampleReadmes(t *testing.T, files []string) {
	readmes := map[string]*localCells{}
	for _, f := range files {
		want, ok := samples[f]
		if !ok {
			continue // reported by the caller
		}
		dir, name := filepath.Split(filepath.FromSlash(f))
		lc := readmes[dir]
		if lc == nil {
			lc = readLocalCells(t, filepath.Join(repoRoot, dir, "README.md"))
			readmes[dir] = lc
		}
		got, ok := lc.get(name)
		switch {
		case *update && lc.set(name, want):
		case !ok:
			t.Errorf("%s: no row for `%s` in a table with a %q column", lc.path, name, localColumn)
		case got != want:
			t.Errorf("%s: `%s` says %q under `local`, the samples table %q (go test ./internal/cli -run TestSamplePayloads -update rewrites it)",
				lc.path, name, got, want)
		}
	}
	if *update {
		for _, lc := range readmes {
			lc.save(t)
		}
	}
}
