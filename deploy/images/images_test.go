package images

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

// TestImages: every image `make images` built passes every check, holds the very binary the
// Makefile target wrote, and `go version -m` (the toolchain's own reading) agrees on its tags.
func TestImages(t *testing.T) {
	for _, v := range Variants {
		t.Run(v.Name, func(t *testing.T) {
			img, desc := loadImage(t, v)
			if p := desc.Platform; p == nil || p.OS != OS || p.Architecture != Arch {
				t.Errorf("layout index says platform %v, want %s/%s", p, OS, Arch)
			}
			problems, err := CheckImage(img, v)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range problems {
				t.Errorf("%s: %s", v.Name, p)
			}

			fs, err := readFS(img, BinaryPath)
			if err != nil {
				t.Fatal(err)
			}
			built, err := os.ReadFile(filepath.Join(repoRoot(t), v.Binary))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(fs.files[BinaryPath], built) {
				t.Errorf("%s in the image is not %s (make %s)", BinaryPath, v.Binary, v.MakeTarget)
			}

			bin := filepath.Join(t.TempDir(), "switchyard")
			if err := os.WriteFile(bin, fs.files[BinaryPath], 0o755); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command("go", "version", "-m", bin).CombinedOutput()
			if err != nil {
				t.Fatalf("go version -m: %v\n%s", err, out)
			}
			tagsLine := "\tbuild\t-tags=" + v.GoTags + "\n"
			if hasTags := strings.Contains(string(out), tagsLine); hasTags != (v.GoTags != "") {
				t.Errorf("go version -m: %q present = %t, want %t:\n%s", strings.TrimSpace(tagsLine), hasTags, v.GoTags != "", out)
			}
			for _, want := range []string{"\tpath\t" + MainPackage + "\n", "\tbuild\tCGO_ENABLED=0\n", "\tbuild\tGOOS=linux\n", "\tbuild\tGOARCH=amd64\n"} {
				if !strings.Contains(string(out), want) {
					t.Errorf("go version -m lacks %q:\n%s", strings.TrimSpace(want), out)
				}
			}
		})
	}
}

// TestImagesAreReproducible rebuilds each image from the Dockerfile and the binary with the
// version, revision and date recorded in it: the digest is the layout's. So the layouts are
// current with deploy/Dockerfile, and the same commit always gives the same images.
func TestImagesAreReproducible(t *testing.T) {
	for _, v := range Variants {
		t.Run(v.Name, func(t *testing.T) {
			img, desc := loadImage(t, v)
			cf, err := img.ConfigFile()
			if err != nil {
				t.Fatal(err)
			}
			again, err := Build(BuildOptions{
				Dockerfile: dockerfilePath(t), Variant: v, Binary: filepath.Join(repoRoot(t), v.Binary),
				Args: map[string]string{
					"VERSION":  cf.Config.Labels["org.opencontainers.image.version"],
					"REVISION": cf.Config.Labels["org.opencontainers.image.revision"],
				},
				Created: cf.Created.Time,
			})
			if err != nil {
				t.Fatal(err)
			}
			d, err := again.Digest()
			if err != nil {
				t.Fatal(err)
			}
			if d != desc.Digest {
				t.Errorf("rebuilt %s has digest %s, the layout %s: deploy/Dockerfile or the binary changed since `make images`, or the build is not reproducible", v.Name, d, desc.Digest)
			}
		})
	}
}

// TestCheckImageCatchesBrokenImages breaks the read image one way at a time and expects exactly
// the checks that guard against that to fail.
func TestCheckImageCatchesBrokenImages(t *testing.T) {
	read := variant(t, "switchyard-read")
	good, _ := loadImage(t, read)
	if ps, err := CheckImage(good, read); err != nil || len(ps) > 0 {
		t.Fatalf("the read image itself fails: %v %v", ps, err)
	}
	binaryOf := func(name string) []byte {
		img, _ := loadImage(t, variant(t, name))
		fs, err := readFS(img, BinaryPath)
		if err != nil {
			t.Fatal(err)
		}
		return fs.files[BinaryPath]
	}
	config := func(change func(cf *v1.ConfigFile)) func(*testing.T, v1.Image) v1.Image {
		return func(t *testing.T, img v1.Image) v1.Image {
			cf, err := img.ConfigFile()
			if err != nil {
				t.Fatal(err)
			}
			cf = cf.DeepCopy()
			change(cf)
			out, err := mutate.ConfigFile(img, cf)
			if err != nil {
				t.Fatal(err)
			}
			return out
		}
	}
	layer := func(entries ...tarEntry) func(*testing.T, v1.Image) v1.Image {
		return func(t *testing.T, img v1.Image) v1.Image {
			l, err := tarLayer(entries, time.Unix(0, 0))
			if err != nil {
				t.Fatal(err)
			}
			out, err := mutate.AppendLayers(img, l)
			if err != nil {
				t.Fatal(err)
			}
			return out
		}
	}
	env := func(key, value string) func(*testing.T, v1.Image) v1.Image {
		return config(func(cf *v1.ConfigFile) { cf.Config.Env = setEnv(cf.Config.Env, key, value) })
	}

	tests := []struct {
		name   string
		break_ func(*testing.T, v1.Image) v1.Image
		want   []string
	}{
		{"runs as root", config(func(cf *v1.ConfigFile) { cf.Config.User = "0:0" }), []string{CheckUser}},
		{"user by name", config(func(cf *v1.ConfigFile) { cf.Config.User = "nonroot" }), []string{CheckUser}},
		{"user unknown to passwd", config(func(cf *v1.ConfigFile) { cf.Config.User = "4242:4242" }), []string{CheckData, CheckUser}},
		{"arm64", config(func(cf *v1.ConfigFile) { cf.Architecture = "arm64" }), []string{CheckPlatform}},
		{"shell-form entrypoint", config(func(cf *v1.ConfigFile) {
			cf.Config.Entrypoint, cf.Config.Cmd = []string{"/bin/sh", "-c", "/switchyard serve"}, nil
		}), []string{CheckEntrypoint}},
		{"busybox added", layer(tarEntry{name: "bin/", mode: 0o755, dir: true}, tarEntry{name: "bin/busybox", mode: 0o755, data: []byte("x")}, tarEntry{name: "bin/sh", mode: 0o755, data: []byte("x")}), []string{CheckShell}},
		{"loopback address", env("SWITCHYARD_ADDR", "127.0.0.1:8080"), []string{CheckEnv}},
		{"relative data directory", env("SWITCHYARD_DATA_DIR", "data"), []string{CheckEnv}},
		{"other port exposed", config(func(cf *v1.ConfigFile) { cf.Config.ExposedPorts = map[string]struct{}{"9090/tcp": {}} }), []string{CheckExpose}},
		{"no data volume", config(func(cf *v1.ConfigFile) { cf.Config.Volumes = nil }), []string{CheckData}},
		{"data directory owned by root", layer(tarEntry{name: "data/", mode: 0o755, dir: true}), []string{CheckData}},
		{"no /tmp", layer(tarEntry{name: ".wh.tmp", mode: 0o644}), []string{CheckTmp}},
		{"revision label missing", config(func(cf *v1.ConfigFile) { delete(cf.Config.Labels, "org.opencontainers.image.revision") }), []string{CheckLabels}},
		{"go-tags label says command", config(func(cf *v1.ConfigFile) { cf.Config.Labels[GoTagsLabel] = "command" }), []string{CheckLabels}},
		{"binary writable by its user", layer(tarEntry{name: "switchyard", mode: 0o755, uid: NonrootUID, gid: NonrootUID, data: binaryOf("switchyard-read")}), []string{CheckBinaryFile}},
		{"command binary in the read image", layer(tarEntry{name: "switchyard", mode: 0o755, data: binaryOf("switchyard-command")}), []string{CheckBinaryTags, CheckModules}},
		{"monolith binary in the read image", layer(tarEntry{name: "switchyard", mode: 0o755, data: binaryOf("switchyard")}), []string{CheckBinaryTags, CheckModules}},
		{"dynamically linked binary", func(t *testing.T, img v1.Image) v1.Image {
			return layer(tarEntry{name: "switchyard", mode: 0o755, data: dynamicBinary(t)})(t, img)
		}, []string{CheckBinaryBuild, CheckBinaryStatic, CheckModules}},
		{"not a Go binary", layer(tarEntry{name: "switchyard", mode: 0o755, data: []byte("#!/bin/sh\nexec serve\n")}), []string{CheckBinaryStatic}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ps, err := CheckImage(tc.break_(t, good), read)
			if err != nil {
				t.Fatal(err)
			}
			if got := checkNames(ps); !slices.Equal(got, tc.want) {
				t.Errorf("checks failed: %v, want %v; problems:\n%s", got, tc.want, problemLines(ps))
			}
		})
	}
}

// dynamicBinary is a Go program built with cgo on and -tags read: it needs the C library's
// dynamic loader, which the image does not have.
func dynamicBinary(t *testing.T) []byte {
	t.Helper()
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("gcc is needed to build a dynamically linked Go binary")
	}
	dir := t.TempDir()
	files := map[string]string{
		"go.mod":  "module example.com/dynamic\n\ngo 1.26\n",
		"main.go": "package main\n\n/*\n#include <stdlib.h>\n*/\nimport \"C\"\n\nfunc main() { C.abs(1) }\n",
	}
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("go", "build", "-trimpath", "-tags", "read", "-o", "dynamic", ".")
	cmd.Dir, cmd.Env = dir, append(os.Environ(), "CGO_ENABLED=1", "GOOS=linux", "GOARCH=amd64")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build a cgo binary: %v\n%s", err, out)
	}
	data, err := os.ReadFile(filepath.Join(dir, "dynamic"))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func problemLines(ps []Problem) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString("  " + p.String() + "\n")
	}
	return b.String()
}
