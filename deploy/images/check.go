package images

import (
	"archive/tar"
	"bufio"
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"net"
	"path"
	"slices"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

// Problem is one way an image falls short; Check names the rule, Detail says what was found.
type Problem struct {
	Check  string
	Detail string
}

func (p Problem) String() string { return p.Check + ": " + p.Detail }

// The checks [CheckImage] applies, by name.
const (
	CheckPlatform     = "platform"      // config os/architecture linux/amd64
	CheckEntrypoint   = "entrypoint"    // exec-form ["/switchyard"], CMD ["serve"]
	CheckUser         = "user"          // numeric uid:gid, neither 0, known to /etc/passwd
	CheckShell        = "shell"         // no shell or busybox anywhere in the filesystem
	CheckEnv          = "env"           // SWITCHYARD_ADDR on every interface, SWITCHYARD_DATA_DIR absolute
	CheckExpose       = "expose"        // the listen port, and only it, exposed as tcp
	CheckData         = "data"          // the data directory exists, belongs to the user, is a volume
	CheckTmp          = "tmp"           // /tmp exists, world-writable and sticky
	CheckLabels       = "labels"        // OCI labels, and io.switchyard.go-tags = the variant's tags
	CheckBinaryFile   = "binary-file"   // /switchyard: a root-owned executable the user cannot change
	CheckBinaryStatic = "binary-static" // x86-64 ELF, no dynamic loader, no shared library
	CheckBinaryBuild  = "binary-build"  // cmd/switchyard, CGO_ENABLED=0, GOOS/GOARCH, -trimpath
	CheckBinaryTags   = "binary-tags"   // -tags as the variant's
	CheckModules      = "modules"       // links the variant's modules and none of the others
)

// GoTagsLabel records the image's GO_TAGS build argument.
const GoTagsLabel = "io.switchyard.go-tags"

// RequiredLabels must be set (non-empty) on every image.
var RequiredLabels = []string{
	"org.opencontainers.image.title", "org.opencontainers.image.source",
	"org.opencontainers.image.version", "org.opencontainers.image.revision",
}

var shells = []string{"sh", "bash", "dash", "ash", "ksh", "zsh", "busybox"}

// CheckImage applies every check to img as variant v and returns the problems it found (none:
// the image is fit to ship). The error is for an image that cannot be read at all.
func CheckImage(img v1.Image, v Variant) ([]Problem, error) {
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("read image config: %w", err)
	}
	fs, err := readFS(img, BinaryPath, "/etc/passwd")
	if err != nil {
		return nil, err
	}
	var ps []Problem
	add := func(check, format string, args ...any) {
		ps = append(ps, Problem{Check: check, Detail: fmt.Sprintf(format, args...)})
	}
	cfg := cf.Config

	if cf.OS != OS || cf.Architecture != Arch {
		add(CheckPlatform, "image is %s/%s, want %s/%s", cf.OS, cf.Architecture, OS, Arch)
	}

	if !slices.Equal(cfg.Entrypoint, []string{BinaryPath}) {
		add(CheckEntrypoint, "entrypoint is %q, want exec form [%q] (no shell in the image to run a shell form)", cfg.Entrypoint, BinaryPath)
	}
	if !slices.Equal(cfg.Cmd, []string{"serve"}) {
		add(CheckEntrypoint, "cmd is %q, want [\"serve\"]", cfg.Cmd)
	}

	uid, gid, userErr := numericUser(cfg.User)
	switch {
	case userErr != nil:
		add(CheckUser, "%v", userErr)
	case uid == 0 || gid == 0:
		add(CheckUser, "user %q is root (uid or gid 0)", cfg.User)
	case !passwdHas(fs.files["/etc/passwd"], uid):
		add(CheckUser, "uid %d has no entry in /etc/passwd", uid)
	}

	for p, h := range fs.headers {
		if slices.Contains(shells, path.Base(p)) && h.Typeflag != tar.TypeDir {
			add(CheckShell, "%s is a shell; the image needs none", p)
		}
	}

	env := map[string]string{}
	for _, kv := range cfg.Env {
		k, val, _ := strings.Cut(kv, "=")
		env[k] = val
	}
	port := ""
	if host, p, err := net.SplitHostPort(env["SWITCHYARD_ADDR"]); err != nil {
		add(CheckEnv, "SWITCHYARD_ADDR %q is not host:port: %v", env["SWITCHYARD_ADDR"], err)
	} else if host != "" && host != "0.0.0.0" && host != "::" {
		add(CheckEnv, "SWITCHYARD_ADDR %q does not listen on every interface: nothing outside the container could connect", env["SWITCHYARD_ADDR"])
	} else {
		port = p
	}
	dataDir := env["SWITCHYARD_DATA_DIR"]
	if !path.IsAbs(dataDir) {
		add(CheckEnv, "SWITCHYARD_DATA_DIR %q is not an absolute path", dataDir)
	}

	if port != "" {
		if _, ok := cfg.ExposedPorts[port+"/tcp"]; !ok || len(cfg.ExposedPorts) != 1 {
			add(CheckExpose, "exposed ports %v, want exactly %s/tcp (SWITCHYARD_ADDR's)", keys(cfg.ExposedPorts), port)
		}
	}

	if path.IsAbs(dataDir) {
		h := fs.headers[path.Clean(dataDir)]
		switch {
		case h == nil || h.Typeflag != tar.TypeDir:
			add(CheckData, "SWITCHYARD_DATA_DIR %s is not a directory in the image", dataDir)
		case userErr == nil && uid != 0 && (h.Uid != uid || h.Mode&0o700 != 0o700):
			add(CheckData, "%s is owned by %d mode %o: user %d cannot write it", dataDir, h.Uid, h.Mode, uid)
		}
		if _, ok := cfg.Volumes[path.Clean(dataDir)]; !ok {
			add(CheckData, "%s is not a VOLUME (volumes %v): a read-only root filesystem leaves nowhere to write", dataDir, keys(cfg.Volumes))
		}
	}

	if h := fs.headers["/tmp"]; h == nil || h.Typeflag != tar.TypeDir || h.Mode&0o1777 != 0o1777 {
		add(CheckTmp, "/tmp is missing or not mode 1777")
	}

	for _, l := range RequiredLabels {
		if cfg.Labels[l] == "" {
			add(CheckLabels, "label %s is not set", l)
		}
	}
	if got := cfg.Labels["org.opencontainers.image.title"]; got != "" && got != v.Name {
		add(CheckLabels, "title %q, want %q", got, v.Name)
	}
	if got, ok := cfg.Labels[GoTagsLabel]; !ok || got != v.GoTags {
		add(CheckLabels, "label %s=%q (set: %t), want %q", GoTagsLabel, got, ok, v.GoTags)
	}

	ps = append(ps, checkBinary(fs, v)...)
	return ps, nil
}

// checkBinary checks the file at BinaryPath as variant v's binary.
func checkBinary(fs *imageFS, v Variant) []Problem {
	var ps []Problem
	add := func(check, format string, args ...any) {
		ps = append(ps, Problem{Check: check, Detail: fmt.Sprintf(format, args...)})
	}
	h := fs.headers[BinaryPath]
	if h == nil || h.Typeflag != tar.TypeReg {
		add(CheckBinaryFile, "%s is not a regular file in the image", BinaryPath)
		return ps
	}
	if h.Mode&0o111 != 0o111 || h.Mode&0o022 != 0 || h.Uid != 0 {
		add(CheckBinaryFile, "%s has owner %d mode %o, want root-owned, executable by all, writable by none but root", BinaryPath, h.Uid, h.Mode)
	}
	b, err := InspectBinary(fs.files[BinaryPath])
	if err != nil {
		add(CheckBinaryStatic, "%s: %v", BinaryPath, err)
		return ps
	}
	if b.Machine != elf.EM_X86_64 {
		add(CheckBinaryStatic, "%s is for %s, want x86-64", BinaryPath, b.Machine)
	}
	if !b.Static() {
		add(CheckBinaryStatic, "%s is dynamically linked (loader %q, libraries %v): the base has no libc", BinaryPath, b.Interp, b.Needed)
	}
	if b.Build.Path != MainPackage {
		add(CheckBinaryBuild, "%s is built from %s, want %s", BinaryPath, b.Build.Path, MainPackage)
	}
	for k, want := range map[string]string{"CGO_ENABLED": "0", "GOOS": OS, "GOARCH": Arch, "-trimpath": "true"} {
		if got, _ := b.Setting(k); got != want {
			add(CheckBinaryBuild, "build setting %s=%q, want %q", k, got, want)
		}
	}
	if got, _ := b.Setting("-tags"); got != v.GoTags {
		add(CheckBinaryTags, "built with -tags=%q, want %q (the %s image)", got, v.GoTags, v.Name)
	}
	for _, m := range v.Links {
		if len(b.PackagesUnder(ModulePath+"/modules/"+m)) == 0 {
			add(CheckModules, "module %s is not linked, the %s image needs it", m, v.Name)
		}
	}
	for _, m := range v.Lacks {
		if pkgs := b.PackagesUnder(ModulePath + "/modules/" + m); len(pkgs) > 0 {
			add(CheckModules, "module %s is linked (%s), the %s image must not contain it", m, strings.Join(pkgs, ", "), v.Name)
		}
	}
	return ps
}

// imageFS is an image's flattened filesystem: every entry's header (paths absolute and
// clean), and the contents of the files asked for.
type imageFS struct {
	headers map[string]*tar.Header
	files   map[string][]byte
}

func readFS(img v1.Image, want ...string) (*imageFS, error) {
	rc := mutate.Extract(img)
	defer rc.Close()
	fs := &imageFS{headers: map[string]*tar.Header{}, files: map[string][]byte{}}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return fs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read image filesystem: %w", err)
		}
		p := path.Clean("/" + h.Name)
		fs.headers[p] = h
		if slices.Contains(want, p) && h.Typeflag == tar.TypeReg {
			if fs.files[p], err = io.ReadAll(tr); err != nil {
				return nil, fmt.Errorf("read %s from the image: %w", p, err)
			}
		}
	}
}

// numericUser parses a USER of the form uid or uid:gid; names are refused, since Kubernetes'
// runAsNonRoot can verify only a numeric user.
func numericUser(user string) (uid, gid int, err error) {
	u, g, hasGroup := strings.Cut(user, ":")
	if uid, err = strconv.Atoi(u); err != nil {
		return 0, 0, fmt.Errorf("user %q is not a numeric uid (runAsNonRoot cannot verify a name)", user)
	}
	if !hasGroup {
		return uid, uid, nil
	}
	if gid, err = strconv.Atoi(g); err != nil {
		return 0, 0, fmt.Errorf("group of user %q is not a numeric gid", user)
	}
	return uid, gid, nil
}

func passwdHas(passwd []byte, uid int) bool {
	sc := bufio.NewScanner(bytes.NewReader(passwd))
	for sc.Scan() {
		if f := strings.Split(sc.Text(), ":"); len(f) >= 3 && f[2] == strconv.Itoa(uid) {
			return true
		}
	}
	return false
}

func keys(m map[string]struct{}) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
