package images

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// The checks [CheckDockerfile] applies, by name.
const (
	CheckLint      = "lint"          // BuildKit's parser and lint rules find nothing
	CheckStages    = "stages"        // a build stage, then the final stage
	CheckBuilder   = "builder-image" // golang:X.Y.Z-suite on $BUILDPLATFORM, X.Y = go.mod's
	CheckBaseImage = "base-image"    // distroless static nonroot of a pinned Debian release
	CheckGoTagsArg = "go-tags-arg"   // ARG GO_TAGS="" in the build stage and the final stage
	CheckBuildLine = "build-line"    // the go build line is the Makefile's, static, for the target
)

var golangImage = regexp.MustCompile(`^golang:([0-9]+)\.([0-9]+)\.([0-9]+)-[a-z]+$`)

// CheckDockerfile checks d against the module's go directive (goMod, e.g. "1.26.0") and the go
// build line each variant's Makefile target runs (makeLines, by variant name).
func CheckDockerfile(d *Dockerfile, goMod string, makeLines map[string]GoBuild) []Problem {
	var ps []Problem
	add := func(check, format string, args ...any) {
		ps = append(ps, Problem{Check: check, Detail: fmt.Sprintf(format, args...)})
	}
	for _, w := range d.Warnings {
		add(CheckLint, "%s", w)
	}
	build, ok := d.Stage(BuildStageName)
	if !ok || d.Final() == build {
		add(CheckStages, "want a stage %q and a final stage after it; stages: %v", BuildStageName, stageNames(d))
		return ps
	}

	if m := golangImage.FindStringSubmatch(build.BaseName); m == nil {
		add(CheckBuilder, "build stage FROM %q: want golang:X.Y.Z-<debian suite>, a pinned release", build.BaseName)
	} else if want := versionParts(goMod); len(want) < 2 {
		add(CheckBuilder, "go.mod's go directive %q is not a version", goMod)
	} else {
		got := []int{atoi(m[1]), atoi(m[2]), atoi(m[3])}
		if got[0] != want[0] || got[1] != want[1] {
			add(CheckBuilder, "build stage uses Go %d.%d, go.mod says go %s", got[0], got[1], goMod)
		} else if slices.Compare(got, append(want, 0, 0)[:3]) < 0 {
			add(CheckBuilder, "build stage's Go %s is older than go.mod's go %s", strings.Join(m[1:], "."), goMod)
		}
	}
	if build.Platform != "$BUILDPLATFORM" {
		add(CheckBuilder, "build stage platform %q, want $BUILDPLATFORM (cross-compile instead of emulating the target)", build.Platform)
	}

	if !DistrolessBase.MatchString(d.Final().BaseName) {
		add(CheckBaseImage, "final stage FROM %q, want gcr.io/distroless/static-debianN:nonroot", d.Final().BaseName)
	}

	for _, st := range []*instructions.Stage{build, d.Final()} {
		defaults, err := ArgDefaults(st)
		if err != nil {
			add(CheckGoTagsArg, "stage %q: %v", stageName(st), err)
			continue
		}
		if def, declared := defaults["GO_TAGS"]; !declared || def == nil || *def != "" {
			add(CheckGoTagsArg, "stage %q does not declare ARG GO_TAGS=\"\" (the monolith is the default)", stageName(st))
		}
	}

	for _, v := range Variants {
		doc, err := d.GoBuild(map[string]string{"GO_TAGS": v.GoTags})
		if err != nil {
			add(CheckBuildLine, "%v", err)
			continue
		}
		mk, ok := makeLines[v.Name]
		if !ok {
			add(CheckBuildLine, "no Makefile go build line for %s (make %s)", v.Name, v.MakeTarget)
			continue
		}
		if a, b := doc.Normalized(), mk.Normalized(); !slices.Equal(a, b) {
			add(CheckBuildLine, "GO_TAGS=%q: the Dockerfile builds `go %s`, make %s builds `go %s`",
				v.GoTags, strings.Join(a, " "), v.MakeTarget, strings.Join(b, " "))
		}
		for _, k := range envKeys(doc.Env, mk.Env) {
			if k != "CGO_ENABLED" && k != "GOOS" && k != "GOARCH" && doc.Env[k] != mk.Env[k] {
				add(CheckBuildLine, "GO_TAGS=%q: %s=%q in the Dockerfile's go build line, %q in make %s's", v.GoTags, k, doc.Env[k], mk.Env[k], v.MakeTarget)
			}
		}
		if out := mk.Output(); out != v.Binary {
			add(CheckBuildLine, "make %s writes %q, the images are made from %q", v.MakeTarget, out, v.Binary)
		}
		if doc.Env["CGO_ENABLED"] != "0" {
			add(CheckBuildLine, "the Dockerfile's go build line does not set CGO_ENABLED=0: the binary may need a libc the base lacks")
		}
		if doc.Env["GOOS"] != OS || doc.Env["GOARCH"] != Arch {
			add(CheckBuildLine, "the Dockerfile's go build line builds for GOOS=%q GOARCH=%q, want the target platform ($TARGETOS/$TARGETARCH = %s/%s)",
				doc.Env["GOOS"], doc.Env["GOARCH"], OS, Arch)
		}
	}
	return dedupe(ps)
}

// envKeys are the variables either line assigns, sorted.
func envKeys(a, b map[string]string) []string {
	var out []string
	for _, m := range []map[string]string{a, b} {
		for k := range m {
			if !slices.Contains(out, k) {
				out = append(out, k)
			}
		}
	}
	slices.Sort(out)
	return out
}

func versionParts(v string) []int {
	var out []int
	for _, p := range strings.Split(v, ".") {
		n, err := strconv.Atoi(p)
		if err != nil {
			return nil
		}
		out = append(out, n)
	}
	return out
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

func stageName(s *instructions.Stage) string {
	if s.Name == "" {
		return "(final)"
	}
	return s.Name
}

func stageNames(d *Dockerfile) []string {
	var out []string
	for i := range d.Stages {
		out = append(out, stageName(&d.Stages[i]))
	}
	return out
}

// dedupe drops repeated problems (a line wrong for every variant is reported once).
func dedupe(ps []Problem) []Problem {
	seen := map[Problem]bool{}
	var out []Problem
	for _, p := range ps {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}
