package images

import (
	"bytes"
	"debug/buildinfo"
	"debug/elf"
	"debug/gosym"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Binary is what a Go executable says about itself: its ELF header and dynamic linking, the
// build information the toolchain embeds (what `go version -m` prints: main package, module
// versions and build settings such as -tags, CGO_ENABLED, GOOS, GOARCH), and the packages its
// functions come from, read from the function table the runtime keeps even in a stripped
// binary (so `-ldflags=-s -w` does not hide a linked module).
type Binary struct {
	Machine elf.Machine
	// Interp is the dynamic loader (PT_INTERP); Needed the shared libraries (DT_NEEDED). Both
	// are empty for a static binary.
	Interp string
	Needed []string
	Build  *buildinfo.BuildInfo
	// Packages holds every package with at least one function in the binary.
	Packages map[string]bool
}

// InspectBinary reads the executable in data.
func InspectBinary(data []byte) (*Binary, error) {
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("not an ELF executable: %w", err)
	}
	defer f.Close()
	b := &Binary{Machine: f.Machine, Packages: map[string]bool{}}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			interp, err := io.ReadAll(p.Open())
			if err != nil {
				return nil, fmt.Errorf("read PT_INTERP: %w", err)
			}
			b.Interp = strings.TrimRight(string(interp), "\x00")
		}
	}
	if b.Needed, err = f.ImportedLibraries(); err != nil {
		return nil, fmt.Errorf("read DT_NEEDED: %w", err)
	}
	if b.Build, err = buildinfo.Read(bytes.NewReader(data)); err != nil {
		return nil, fmt.Errorf("read Go build information: %w", err)
	}
	pcln, text := f.Section(".gopclntab"), f.Section(".text")
	if pcln == nil || text == nil {
		return nil, errors.New("no .gopclntab or .text section: not a Go executable")
	}
	tabData, err := pcln.Data()
	if err != nil {
		return nil, fmt.Errorf("read .gopclntab: %w", err)
	}
	tab, err := gosym.NewTable(nil, gosym.NewLineTable(tabData, text.Addr))
	if err != nil {
		return nil, fmt.Errorf("decode .gopclntab: %w", err)
	}
	for _, fn := range tab.Funcs {
		if pkg := fn.PackageName(); pkg != "" {
			b.Packages[pkg] = true
		}
	}
	if len(b.Packages) == 0 {
		return nil, errors.New(".gopclntab lists no function")
	}
	return b, nil
}

// Static reports whether the binary needs no dynamic loader and no shared library.
func (b *Binary) Static() bool { return b.Interp == "" && len(b.Needed) == 0 }

// Setting is a build setting (-tags, CGO_ENABLED, GOOS, ...); ok is false when it is absent.
func (b *Binary) Setting(key string) (value string, ok bool) {
	for _, s := range b.Build.Settings {
		if s.Key == key {
			return s.Value, true
		}
	}
	return "", false
}

// PackagesUnder lists the binary's packages that are prefix or below it, sorted.
func (b *Binary) PackagesUnder(prefix string) []string {
	var out []string
	for p := range b.Packages {
		if p == prefix || strings.HasPrefix(p, prefix+"/") {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}
