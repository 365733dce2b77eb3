package images

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// repoRoot is the repository root: SWITCHYARD_REPO_ROOT (set by make) or two levels up.
func repoRoot(t *testing.T) string {
	t.Helper()
	if r := os.Getenv("SWITCHYARD_REPO_ROOT"); r != "" {
		return r
	}
	r, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// imagesDir is where `make images` wrote the OCI layouts. `make test-images` builds them and
// sets SWITCHYARD_IMAGES_DIR; a plain `go test` without it skips the tests that need them.
func imagesDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("SWITCHYARD_IMAGES_DIR")
	if dir == "" {
		t.Skip("SWITCHYARD_IMAGES_DIR is not set: run `make test-images`, which builds the images first")
	}
	return dir
}

// loadImage reads variant v's image from the layouts `make images` wrote.
func loadImage(t *testing.T, v Variant) (v1.Image, v1.Descriptor) {
	t.Helper()
	img, desc, err := ReadLayout(LayoutDir(imagesDir(t), v))
	if err != nil {
		t.Fatalf("%v (run `make images`)", err)
	}
	return img, desc
}

func variant(t *testing.T, name string) Variant {
	t.Helper()
	v, ok := VariantNamed(name)
	if !ok {
		t.Fatalf("no variant %q", name)
	}
	return v
}

// goDirective is the root go.mod's go version.
func goDirective(t *testing.T) string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(repoRoot(t), "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go ([0-9.]+)\s*$`).FindSubmatch(src)
	if m == nil {
		t.Fatal("go.mod has no go directive")
	}
	return string(m[1])
}

// makeLines are the go build lines of each variant's Makefile target.
func makeLines(t *testing.T) map[string]GoBuild {
	t.Helper()
	out := map[string]GoBuild{}
	for _, v := range Variants {
		g, err := MakeGoBuild(repoRoot(t), v.MakeTarget)
		if err != nil {
			t.Fatal(err)
		}
		out[v.Name] = g
	}
	return out
}

// checkNames are the distinct check names of ps, sorted.
func checkNames(ps []Problem) []string {
	var out []string
	for _, p := range ps {
		if !slices.Contains(out, p.Check) {
			out = append(out, p.Check)
		}
	}
	slices.Sort(out)
	return out
}
