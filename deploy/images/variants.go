// Package images builds Switchyard's container images without a Docker engine and checks them.
//
// deploy/Dockerfile is the definition: its build stage's go build line is the Makefile's (a
// test compares them), and its final stage's instructions (LABEL, ENV, COPY, USER, EXPOSE,
// VOLUME, ENTRYPOINT, CMD) are applied here, by [Build], to a base made like distroless static
// ([Base]), around the binary `make build|build-command|build-read` wrote. The images are
// written as OCI layouts ([WriteLayout]) and can be pushed to any registry ([Push]).
// [CheckImage] is what CI asserts about every image: entrypoint, non-root numeric user,
// linux/amd64, no shell, a static binary built with its variant's tags that links exactly its
// variant's modules.
package images

// Platform of every image: the CI machine's, and what the Kubernetes manifests schedule on.
const (
	OS   = "linux"
	Arch = "amd64"
)

// BinaryPath is where the final stage puts the binary, and the image's entrypoint.
const BinaryPath = "/switchyard"

// ModulePath is the service's module; its modules live under ModulePath + "/modules/".
const ModulePath = "github.com/switchyardhq/switchyard"

// MainPackage is the command every image's binary is built from.
const MainPackage = ModulePath + "/cmd/switchyard"

// Variant is one image: a Go tag set, the Makefile target that builds its binary, and the
// modules its binary must and must not link.
type Variant struct {
	// Name is the image's repository name (ghcr.io/switchyardhq/<Name>) and its title label.
	Name string
	// GoTags is the Dockerfile's GO_TAGS build argument and the binary's -tags.
	GoTags string
	// MakeTarget builds the binary; Binary is where it writes it, relative to the repository root.
	MakeTarget, Binary string
	// Links are the modules (directories under modules/) the binary links; Lacks those it must not.
	Links, Lacks []string
}

// Variants are the images `make images` builds: the monolith and the split deploy's two sides.
var Variants = []Variant{
	{
		Name: "switchyard", GoTags: "", MakeTarget: "build", Binary: "bin/switchyard",
		Links: []string{"flags", "evaluation", "audit"},
	},
	{
		Name: "switchyard-command", GoTags: "command", MakeTarget: "build-command", Binary: "bin/switchyard-command",
		Links: []string{"flags", "audit"}, Lacks: []string{"evaluation"},
	},
	{
		Name: "switchyard-read", GoTags: "read", MakeTarget: "build-read", Binary: "bin/switchyard-read",
		Links: []string{"evaluation"}, Lacks: []string{"flags", "audit"},
	},
}

// VariantNamed returns the variant called name.
func VariantNamed(name string) (Variant, bool) {
	for _, v := range Variants {
		if v.Name == name {
			return v, true
		}
	}
	return Variant{}, false
}
