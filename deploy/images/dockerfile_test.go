package images

import (
	"archive/tar"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// dockerfilePath is deploy/Dockerfile.
func dockerfilePath(t *testing.T) string { return filepath.Join(repoRoot(t), "deploy", "Dockerfile") }

// mutatedDockerfile writes deploy/Dockerfile with old replaced by new (every occurrence) to a
// temporary file. old must occur, so a fixture never silently stops testing anything.
func mutatedDockerfile(t *testing.T, old, new string) string {
	t.Helper()
	src, err := os.ReadFile(dockerfilePath(t))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(src), old) {
		t.Fatalf("deploy/Dockerfile no longer contains %q: update this fixture", old)
	}
	p := filepath.Join(t.TempDir(), "Dockerfile")
	if err := os.WriteFile(p, []byte(strings.ReplaceAll(string(src), old, new)), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestDockerfile: deploy/Dockerfile passes BuildKit's parser and lint rules, pins its bases,
// builds with go.mod's Go, and its go build line is each Makefile target's (so `docker build`
// and `make images` make the same binary).
func TestDockerfile(t *testing.T) {
	d, err := ParseDockerfile(dockerfilePath(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range CheckDockerfile(d, goDirective(t), makeLines(t)) {
		t.Errorf("deploy/Dockerfile: %s", p)
	}
}

// TestCheckDockerfileCatchesMistakes breaks deploy/Dockerfile one way at a time and expects
// exactly the check that guards against it to fail.
func TestCheckDockerfileCatchesMistakes(t *testing.T) {
	lines := makeLines(t)
	goMod := goDirective(t)
	tests := []struct {
		name, old, new string
		want           []string
	}{
		{"unpinned builder", "golang:1.26.8-trixie", "golang:latest", []string{CheckBuilder}},
		{"builder older than go.mod", "golang:1.26.8-trixie", "golang:1.25.9-trixie", []string{CheckBuilder}},
		{"builder emulates the target", "FROM --platform=$BUILDPLATFORM golang", "FROM golang", []string{CheckBuilder}},
		{"extra linker flags", "go build -trimpath", "go build -trimpath -ldflags=-s", []string{CheckBuildLine}},
		{"extra environment", "CGO_ENABLED=0 GOOS", "CGO_ENABLED=0 GOEXPERIMENT=jsonv2 GOOS", []string{CheckBuildLine}},
		{"tags ignored", `-tags "$GO_TAGS" `, "", []string{CheckBuildLine}},
		{"cgo left on", "CGO_ENABLED=0 GOOS", "GOOS", []string{CheckBuildLine}},
		{"built for the build machine", "GOOS=$TARGETOS GOARCH=$TARGETARCH", "GOOS=darwin", []string{CheckBuildLine}},
		{"base not distroless", "gcr.io/distroless/static-debian13:nonroot", "debian:trixie-slim", []string{CheckBaseImage}},
		{"unversioned distroless", "gcr.io/distroless/static-debian13:nonroot", "gcr.io/distroless/static:nonroot", []string{CheckBaseImage}},
		{"GO_TAGS defaults to a side", `ARG GO_TAGS=""`, "ARG GO_TAGS=read", []string{CheckGoTagsArg}},
		{"lint: FROM ... as", "AS build", "as build", []string{CheckLint}},
		{"lint: empty continuation line", "    go build -trimpath", "\n    go build -trimpath", []string{CheckLint}},
		{"no build stage", "AS build", "AS compile", []string{CheckStages}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := ParseDockerfile(mutatedDockerfile(t, tc.old, tc.new))
			if err != nil {
				t.Fatal(err)
			}
			ps := CheckDockerfile(d, goMod, lines)
			if got := checkNames(ps); !slices.Equal(got, tc.want) {
				t.Errorf("checks failed: %v, want %v; problems: %v", got, tc.want, ps)
			}
		})
	}
}

// TestBuildAppliesTheFinalStage builds an image around a stand-in binary: the config and the
// filesystem are the final stage's, for every variant.
func TestBuildAppliesTheFinalStage(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "switchyard")
	if err := os.WriteFile(bin, []byte("stand-in binary"), 0o755); err != nil {
		t.Fatal(err)
	}
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, v := range Variants {
		t.Run(v.Name, func(t *testing.T) {
			img, err := Build(BuildOptions{Dockerfile: dockerfilePath(t), Variant: v, Binary: bin,
				Args: map[string]string{"VERSION": "v9.9.9", "REVISION": "abc123"}, Created: created})
			if err != nil {
				t.Fatal(err)
			}
			cf, err := img.ConfigFile()
			if err != nil {
				t.Fatal(err)
			}
			c := cf.Config
			checks := []struct {
				what      string
				got, want any
			}{
				{"entrypoint", c.Entrypoint, []string{"/switchyard"}},
				{"cmd", c.Cmd, []string{"serve"}},
				{"user", c.User, "65532:65532"},
				{"title", c.Labels["org.opencontainers.image.title"], v.Name},
				{"version", c.Labels["org.opencontainers.image.version"], "v9.9.9"},
				{"revision", c.Labels["org.opencontainers.image.revision"], "abc123"},
				{"go tags", c.Labels[GoTagsLabel], v.GoTags},
				{"env", strings.Join(c.Env, " "), "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt SWITCHYARD_ADDR=:8080 SWITCHYARD_DATA_DIR=/data"},
				{"ports", keys(c.ExposedPorts), []string{"8080/tcp"}},
				{"volumes", keys(c.Volumes), []string{"/data"}},
				{"platform", cf.OS + "/" + cf.Architecture, "linux/amd64"},
				{"created", cf.Created.UTC(), created},
			}
			for _, ch := range checks {
				if !equalAny(ch.got, ch.want) {
					t.Errorf("%s = %v, want %v", ch.what, ch.got, ch.want)
				}
			}
			fs, err := readFS(img, BinaryPath)
			if err != nil {
				t.Fatal(err)
			}
			if string(fs.files[BinaryPath]) != "stand-in binary" {
				t.Errorf("%s does not hold the binary given", BinaryPath)
			}
			for p, want := range map[string]struct {
				typ      byte
				mode     int64
				uid, gid int
			}{
				BinaryPath:      {tar.TypeReg, 0o755, 0, 0},
				"/data":         {tar.TypeDir, 0o755, NonrootUID, NonrootUID},
				"/tmp":          {tar.TypeDir, 0o1777, 0, 0},
				"/home/nonroot": {tar.TypeDir, 0o700, NonrootUID, NonrootUID},
			} {
				h := fs.headers[p]
				if h == nil || h.Typeflag != want.typ || h.Mode != want.mode || h.Uid != want.uid || h.Gid != want.gid {
					t.Errorf("%s: %+v, want type %c mode %o owner %d:%d", p, h, want.typ, want.mode, want.uid, want.gid)
				}
			}
		})
	}
}

func equalAny(a, b any) bool {
	switch a := a.(type) {
	case []string:
		return slices.Equal(a, b.([]string))
	case time.Time:
		return a.Equal(b.(time.Time))
	default:
		return a == b
	}
}

// TestBuildRefusesWhatItCannotBuild: a final-stage instruction the daemonless build does not
// implement stops it, instead of giving an image that differs from `docker build`'s.
func TestBuildRefusesWhatItCannotBuild(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "switchyard")
	if err := os.WriteFile(bin, []byte("stand-in"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, old, new, want string
	}{
		{"RUN in the final stage", "USER 65532:65532", "USER 65532:65532\nRUN [\"/switchyard\", \"migrate\"]", "does not support"},
		{"WORKDIR", "USER 65532:65532", "USER 65532:65532\nWORKDIR /data", "does not support"},
		{"COPY from the context", "COPY --from=build /out/switchyard /switchyard", "COPY deploy/seed/flags.json /seed.json", "only COPY --from=build"},
		{"COPY of something the build stage does not make", "/out/data /data", "/src/go.mod /go.mod", "neither the go build output"},
		{"named owner", "--chown=65532:65532", "--chown=nonroot:nonroot", "numeric"},
		{"scratch base", "FROM gcr.io/distroless/static-debian13:nonroot", "FROM scratch", "not distroless"},
		{"build argument without ARG", "ARG VERSION=dev\n", "", "VERSION is not declared"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Build(BuildOptions{Dockerfile: mutatedDockerfile(t, tc.old, tc.new), Variant: Variants[0], Binary: bin,
				Args: map[string]string{"VERSION": "v1", "REVISION": "r"}, Created: time.Unix(0, 0)})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestShellCommands: the go build line is read as sh reads it; an empty "$GO_TAGS" stays an
// argument (-tags ""), where naive word splitting would make -o the tag list.
func TestShellCommands(t *testing.T) {
	tests := []struct {
		line string
		env  map[string]string
		want []ShellCommand
	}{
		{`CGO_ENABLED=0 go build -tags "$T" -o /out/x ./cmd`, map[string]string{"T": ""},
			[]ShellCommand{{Assign: map[string]string{"CGO_ENABLED": "0"}, Args: []string{"go", "build", "-tags", "", "-o", "/out/x", "./cmd"}}}},
		{`go build -tags "$T" . && mkdir -p /a /b`, map[string]string{"T": "read"},
			[]ShellCommand{{Assign: map[string]string{}, Args: []string{"go", "build", "-tags", "read", "."}}, {Assign: map[string]string{}, Args: []string{"mkdir", "-p", "/a", "/b"}}}},
	}
	for _, tc := range tests {
		got, err := ShellCommands(tc.line, tc.env)
		if err != nil {
			t.Fatalf("%s: %v", tc.line, err)
		}
		if len(got) != len(tc.want) {
			t.Fatalf("%s: %d commands, want %d", tc.line, len(got), len(tc.want))
		}
		for i := range got {
			if !slices.Equal(got[i].Args, tc.want[i].Args) || len(got[i].Assign) != len(tc.want[i].Assign) || got[i].Assign["CGO_ENABLED"] != tc.want[i].Assign["CGO_ENABLED"] {
				t.Errorf("%s: command %d = %+v, want %+v", tc.line, i, got[i], tc.want[i])
			}
		}
	}
	if _, err := ShellCommands(`go build -tags "$UNSET" .`, nil); err == nil {
		t.Error("an unset variable expanded silently")
	}
	if _, err := ShellCommands(`go build . || true`, nil); err == nil {
		t.Error("a || list was accepted")
	}
}

// TestNormalized: what differs only in output path, flag spelling or an empty -tags builds the
// same binary; anything else does not.
func TestNormalized(t *testing.T) {
	same := [][]string{
		{"build", "-trimpath", "-tags", "", "-o", "/out/switchyard", "./cmd/switchyard"},
		{"build", "--trimpath", "-o=bin/switchyard", "./cmd/switchyard"},
		{"build", "-trimpath", "-tags=", "./cmd/switchyard"},
	}
	want := GoBuild{Args: same[0]}.Normalized()
	for _, args := range same[1:] {
		if got := (GoBuild{Args: args}).Normalized(); !slices.Equal(got, want) {
			t.Errorf("%v normalizes to %v, want %v", args, got, want)
		}
	}
	for _, args := range [][]string{
		{"build", "-trimpath", "-tags", "read", "./cmd/switchyard"},
		{"build", "-trimpath", "-ldflags=-s -w", "./cmd/switchyard"},
		{"build", "./cmd/switchyard"},
	} {
		if got := (GoBuild{Args: args}).Normalized(); slices.Equal(got, want) {
			t.Errorf("%v normalizes like %v", args, same[0])
		}
	}
}
