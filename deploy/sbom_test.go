package deploy_test

import (
	"bytes"
	"crypto/sha256"
	"debug/buildinfo"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"sort"
	"strings"
	"testing"
)

// stdComponent is the name cyclonedx-gomod gives the Go standard library,
// with the toolchain version (go1.x.y) as its version.
const stdComponent = "std"

// shippedModules are the modules the deployed function cannot work without:
// the SBOM of the real build must name each of them.
var shippedModules = []string{
	"github.com/aliyun/fc-runtime-go-sdk",
	"github.com/aliyun/alibaba-cloud-sdk-go",
	"github.com/alibabacloud-go/eventbridge-sdk",
	"github.com/rs/zerolog",
}

// cdxBOM is the part of a CycloneDX JSON document the checks read.
type cdxBOM struct {
	BOMFormat   string `json:"bomFormat"`
	SpecVersion string `json:"specVersion"`
	Metadata    struct {
		Component  *cdxComponent `json:"component"`
		Properties []struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		} `json:"properties"`
	} `json:"metadata"`
	Components []cdxComponent `json:"components"`
}

type cdxComponent struct {
	Type    string `json:"type"`
	Name    string `json:"name"`
	Version string `json:"version"`
	PURL    string `json:"purl"`
}

// sbomModules parses sbom and returns its components as name -> version,
// the main component included.
func sbomModules(sbom []byte) (cdxBOM, map[string]string, error) {
	var bom cdxBOM
	if err := json.Unmarshal(sbom, &bom); err != nil {
		return bom, nil, fmt.Errorf("not JSON: %w", err)
	}
	if bom.BOMFormat != "CycloneDX" || bom.SpecVersion == "" {
		return bom, nil, fmt.Errorf("bomFormat %q specVersion %q, want a CycloneDX document", bom.BOMFormat, bom.SpecVersion)
	}
	if bom.Metadata.Component == nil {
		return bom, nil, errors.New("no metadata.component (the binary's main module)")
	}
	mods := map[string]string{}
	for i, c := range append([]cdxComponent{*bom.Metadata.Component}, bom.Components...) {
		// Only the main module may be unversioned: a build outside a git
		// checkout has no version to record (Go says "(devel)").
		if c.Name == "" || (c.Version == "" && i > 0) || c.PURL == "" {
			return bom, nil, fmt.Errorf("component %+v lacks a name, version or purl", c)
		}
		if v, dup := mods[c.Name]; dup {
			return bom, nil, fmt.Errorf("component %s listed twice (%s, %s)", c.Name, v, c.Version)
		}
		mods[c.Name] = c.Version
	}
	return bom, mods, nil
}

// checkSBOM checks that sbom describes exactly the binary whose build
// information is bi (what `go version -m` prints) and whose sha256 is
// binSum: every module linked in, at its version, the toolchain as the
// standard library's version, nothing else, and the binary's hash.
func checkSBOM(sbom []byte, bi *buildinfo.BuildInfo, binSum string) error {
	bom, got, err := sbomModules(sbom)
	if err != nil {
		return err
	}
	mainVersion := bi.Main.Version
	if mainVersion == "(devel)" {
		mainVersion = "" // what cyclonedx-gomod writes for it
	}
	want := map[string]string{bi.Main.Path: mainVersion, stdComponent: bi.GoVersion}
	for _, d := range bi.Deps {
		if d.Replace != nil {
			d = d.Replace
		}
		want[d.Path] = d.Version
	}
	var problems []string
	for name, v := range got {
		switch wv, ok := want[name]; {
		case !ok:
			problems = append(problems, fmt.Sprintf("%s %s is not in the binary", name, v))
		case v != wv:
			problems = append(problems, fmt.Sprintf("%s is %s in the SBOM, %s in the binary", name, orNone(v), orNone(wv)))
		}
	}
	for name, wv := range want {
		if _, ok := got[name]; !ok {
			problems = append(problems, fmt.Sprintf("%s %s is in the binary but not in the SBOM", name, wv))
		}
	}
	if bom.Metadata.Component.Name != bi.Main.Path {
		problems = append(problems, fmt.Sprintf("main component %s, want the binary's main module %s", bom.Metadata.Component.Name, bi.Main.Path))
	}
	hashed := false
	for _, p := range bom.Metadata.Properties {
		if strings.HasSuffix(p.Name, ":binary:hash:SHA-256") {
			hashed = true
			if p.Value != binSum {
				problems = append(problems, fmt.Sprintf("SBOM is of a binary with sha256 %s, this one has %s", p.Value, binSum))
			}
		}
	}
	if !hashed {
		problems = append(problems, "no binary:hash:SHA-256 property: the SBOM is not tied to a binary")
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

func orNone(version string) string {
	if version == "" {
		return "unversioned"
	}
	return version
}

// checkSBOMFiles runs checkSBOM on the files build.sh wrote.
func checkSBOMFiles(sbomPath, binPath string) error {
	sbom, err := os.ReadFile(sbomPath)
	if err != nil {
		return err
	}
	bi, err := buildinfo.ReadFile(binPath)
	if err != nil {
		return err
	}
	bin, err := os.ReadFile(binPath)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(bin)
	if err := checkSBOM(sbom, bi, hex.EncodeToString(sum[:])); err != nil {
		return fmt.Errorf("%s against %s: %w", sbomPath, binPath, err)
	}
	return nil
}

// TestSBOMChecksCanFail feeds checkSBOM SBOMs that are wrong in one way each.
func TestSBOMChecksCanFail(t *testing.T) {
	bi := &buildinfo.BuildInfo{
		GoVersion: "go1.27.3",
		Main:      debug.Module{Path: "example.com/fn", Version: "v0.0.0-20260101000000-abcdefabcdef"},
		Deps: []*debug.Module{
			{Path: "github.com/rs/zerolog", Version: "v1.35.1"},
			{Path: "example.com/old", Version: "v1.0.0", Replace: &debug.Module{Path: "example.com/fork", Version: "v1.0.1"}},
		},
	}
	const sum = "73db24d3013c70537909989d228792fa0458c3549c6afb4b77bbfd6ea8ee4044"
	type comp = cdxComponent
	mk := func(mainName, hash string, comps ...comp) []byte {
		doc := map[string]any{
			"bomFormat":   "CycloneDX",
			"specVersion": "1.6",
			"metadata": map[string]any{
				"component":  comp{"application", mainName, bi.Main.Version, "pkg:golang/" + mainName},
				"properties": []map[string]string{{"name": "cdx:gomod:binary:hash:SHA-256", "value": hash}},
			},
			"components": comps,
		}
		b, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	c := func(name, version string) comp {
		return comp{"library", name, version, "pkg:golang/" + name + "@" + version}
	}
	zerolog, fork, std := c("github.com/rs/zerolog", "v1.35.1"), c("example.com/fork", "v1.0.1"), c(stdComponent, "go1.27.3")

	if err := checkSBOM(mk("example.com/fn", sum, zerolog, fork, std), bi, sum); err != nil {
		t.Fatalf("a correct SBOM fails the check: %v", err)
	}
	// Built outside a git checkout: no version for the main module.
	devel := *bi
	devel.Main.Version = "(devel)"
	unversioned := func(sbom []byte) []byte {
		return bytes.Replace(sbom, []byte(`"version":"`+bi.Main.Version+`"`), []byte(`"version":""`), 1)
	}
	if err := checkSBOM(unversioned(mk("example.com/fn", sum, zerolog, fork, std)), &devel, sum); err != nil {
		t.Fatalf("a correct SBOM of an unstamped build fails the check: %v", err)
	}
	tests := []struct {
		name    string
		sbom    []byte
		wantErr string
	}{
		{"not JSON", []byte("<bom/>"), "not JSON"},
		{"not CycloneDX", []byte(`{"spdxVersion":"SPDX-2.3"}`), "want a CycloneDX document"},
		{"module not in the binary", mk("example.com/fn", sum, zerolog, fork, std, c("github.com/evil/extra", "v1.0.0")), "github.com/evil/extra v1.0.0 is not in the binary"},
		{"module missing", mk("example.com/fn", sum, fork, std), "github.com/rs/zerolog v1.35.1 is in the binary but not in the SBOM"},
		{"wrong version", mk("example.com/fn", sum, c("github.com/rs/zerolog", "v1.34.0"), fork, std), "zerolog is v1.34.0 in the SBOM, v1.35.1 in the binary"},
		{"replaced module under its old name", mk("example.com/fn", sum, zerolog, c("example.com/old", "v1.0.0"), std), "example.com/old v1.0.0 is not in the binary"},
		{"no toolchain", mk("example.com/fn", sum, zerolog, fork), "std go1.27.3 is in the binary but not in the SBOM"},
		{"other toolchain", mk("example.com/fn", sum, zerolog, fork, c(stdComponent, "go1.26.8")), "std is go1.26.8 in the SBOM, go1.27.3 in the binary"},
		{"other main module", mk("example.com/other", sum, zerolog, fork, std), "example.com/other"},
		{"other binary", mk("example.com/fn", strings.Repeat("0", 64), zerolog, fork, std), "SBOM is of a binary with sha256 000"},
		{"duplicate", mk("example.com/fn", sum, zerolog, zerolog, fork, std), "listed twice"},
		{"main unversioned, binary stamped", unversioned(mk("example.com/fn", sum, zerolog, fork, std)), "example.com/fn is unversioned in the SBOM, v0.0.0-20260101000000-abcdefabcdef in the binary"},
		{"no purl", mk("example.com/fn", sum, zerolog, comp{"library", "example.com/fork", "v1.0.1", ""}, std), "lacks a name, version or purl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkSBOM(tt.sbom, bi, sum)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("checkSBOM error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}
