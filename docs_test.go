package main

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// repoTextFiles returns every text file of the repository (not .git,
// .cache or build output) with its content.
func repoTextFiles(t *testing.T) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != "." && (strings.HasPrefix(d.Name(), ".") && d.Name() != ".ci" || d.Name() == "dist") {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || d.Name() == ".git" { // a worktree's .git file names a machine path
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if !bytes.Contains(b, []byte{0}) {
			files[filepath.ToSlash(path)] = b
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// The repository stands alone: nothing in it may send a reader to a file
// they do not have (a specification or notes kept elsewhere, a path on a
// development machine).
func TestNoReferenceOutsideTheRepository(t *testing.T) {
	outside := regexp.MustCompile(`\bSPEC\b|SPEC\.md|NOTES\.md|\.\./shared|/work/|/home/[a-z]|reference/[A-Za-z]`)
	n := 0
	for path, b := range repoTextFiles(t) {
		if path == "docs_test.go" {
			continue // the patterns themselves
		}
		n++
		for i, line := range strings.Split(string(b), "\n") {
			if m := outside.FindString(line); m != "" {
				t.Errorf("%s:%d: %q refers to something outside the repository: %s", path, i+1, m, strings.TrimSpace(line))
			}
		}
	}
	if n < 100 {
		t.Fatalf("only %d files scanned: the walk is broken", n)
	}
}

// Every section of README.md cited anywhere (README "What it does") is a
// heading of README.md.
func TestREADMESectionsCitedExist(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	headings := map[string]bool{}
	for _, line := range strings.Split(string(readme), "\n") {
		if strings.HasPrefix(line, "#") {
			headings[strings.TrimSpace(strings.TrimLeft(line, "#"))] = true
		}
	}
	cite := regexp.MustCompile(`README(?:,| \(|) ?\\?"([A-Z\x60][^"\\\n]*)\\?"`)
	n := 0
	for path, b := range repoTextFiles(t) {
		for i, line := range strings.Split(string(b), "\n") {
			for _, m := range cite.FindAllStringSubmatch(line, -1) {
				n++
				if !headings[m[1]] {
					t.Errorf("%s:%d: cites README section %q, which README.md does not have", path, i+1, m[1])
				}
			}
		}
	}
	if n < 10 {
		t.Fatalf("only %d citations found: the pattern is broken", n)
	}
}

// Relative links in Markdown files point at files that exist.
func TestMarkdownLinksResolve(t *testing.T) {
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	n := 0
	for path, b := range repoTextFiles(t) {
		if !strings.HasSuffix(path, ".md") {
			continue
		}
		for i, line := range strings.Split(string(b), "\n") {
			for _, m := range link.FindAllStringSubmatch(line, -1) {
				target := m[1]
				if strings.Contains(target, "://") || strings.HasPrefix(target, "#") || strings.HasPrefix(target, "mailto:") {
					continue
				}
				target, _, _ = strings.Cut(target, "#")
				n++
				if _, err := os.Stat(filepath.Join(filepath.Dir(path), filepath.FromSlash(target))); err != nil {
					t.Errorf("%s:%d: link to %s: %v", path, i+1, m[1], err)
				}
			}
		}
	}
	if n < 5 {
		t.Fatalf("only %d relative links found: the pattern is broken", n)
	}
}
