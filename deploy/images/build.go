package images

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// NonrootUID is distroless's nonroot user, which the final stage runs as.
const NonrootUID = 65532

// DistrolessBase matches the final stage's base: distroless static, nonroot, a pinned Debian
// release. The daemonless build makes an equivalent base itself ([Base]).
var DistrolessBase = regexp.MustCompile(`^gcr\.io/distroless/static-debian[0-9]+:nonroot$`)

// DefaultCACerts is the machine's CA bundle, copied into the base as distroless ships Debian's.
const DefaultCACerts = "/etc/ssl/certs/ca-certificates.crt"

// Base is the daemonless build's stand-in for gcr.io/distroless/static-debianN:nonroot: the
// same users and groups (root 0, nobody 65534, nonroot 65532), CA certificates, a
// world-writable /tmp and nonroot's home, and distroless's configuration (user 65532, working
// directory /home/nonroot, PATH and SSL_CERT_FILE). It has no shell, no package manager and no
// time-zone database (a binary that needs one embeds it with time/tzdata). Every file is dated
// created, so the same inputs give the same digest.
func Base(created time.Time, caCerts []byte) (v1.Image, error) {
	passwd := "root:x:0:0:root:/root:/sbin/nologin\n" +
		"nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n" +
		"nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"
	group := "root:x:0:\nnobody:x:65534:\ntty:x:5:\nstaff:x:50:\nnonroot:x:65532:\n"
	entries := []tarEntry{
		{name: "etc/", mode: 0o755, dir: true},
		{name: "etc/group", mode: 0o644, data: []byte(group)},
		{name: "etc/nsswitch.conf", mode: 0o644, data: []byte("hosts: files dns\n")},
		{name: "etc/passwd", mode: 0o644, data: []byte(passwd)},
		{name: "etc/ssl/", mode: 0o755, dir: true},
		{name: "etc/ssl/certs/", mode: 0o755, dir: true},
		{name: "etc/ssl/certs/ca-certificates.crt", mode: 0o644, data: caCerts},
		{name: "home/", mode: 0o755, dir: true},
		{name: "home/nonroot/", mode: 0o700, dir: true, uid: NonrootUID, gid: NonrootUID},
		{name: "root/", mode: 0o700, dir: true},
		{name: "tmp/", mode: 0o1777, dir: true},
	}
	layer, err := tarLayer(entries, created)
	if err != nil {
		return nil, fmt.Errorf("base layer: %w", err)
	}
	base := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	img, err := mutate.Append(base, mutate.Addendum{Layer: layer, History: v1.History{
		Created:   v1.Time{Time: created},
		CreatedBy: "deploy/images: a distroless-static-like base (passwd, group, nsswitch.conf, CA certificates, /tmp, /home/nonroot)",
		Comment:   "stands in for the Dockerfile's gcr.io/distroless/static nonroot base",
	}})
	if err != nil {
		return nil, fmt.Errorf("base image: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("base config: %w", err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Created = OS, Arch, v1.Time{Time: created}
	cf.Config.User = strconv.Itoa(NonrootUID)
	cf.Config.WorkingDir = "/home/nonroot"
	cf.Config.Env = []string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"SSL_CERT_FILE=" + DefaultCACerts,
	}
	return mutate.ConfigFile(img, cf)
}

// BuildOptions says what to build.
type BuildOptions struct {
	// Dockerfile is deploy/Dockerfile's path.
	Dockerfile string
	Variant    Variant
	// Binary is the file the Dockerfile's go build line made for this variant (`make <target>`).
	Binary string
	// Args are build arguments besides GO_TAGS (which comes from Variant), e.g. VERSION, REVISION.
	// Each must be declared by an ARG of the final stage.
	Args map[string]string
	// Created dates the image and every file in it.
	Created time.Time
	// CACerts is the CA bundle for the base; DefaultCACerts when empty.
	CACerts string
}

// Build assembles the variant's image from the Dockerfile's final stage: [Base] stands in for
// its FROM, COPY --from=build takes the go build line's output (the Binary) or a directory the
// build stage made with mkdir -p, and ARG, LABEL, ENV, USER, EXPOSE, VOLUME, ENTRYPOINT, CMD and
// STOPSIGNAL act as in BuildKit. Any other instruction is refused rather than approximated.
func Build(opts BuildOptions) (v1.Image, error) {
	d, err := ParseDockerfile(opts.Dockerfile)
	if err != nil {
		return nil, err
	}
	final := d.Final()
	if final.Name == BuildStageName || !DistrolessBase.MatchString(final.BaseName) {
		return nil, fmt.Errorf("%s: the final stage's base %q is not distroless static nonroot, which is all the daemonless build can stand in for", d.Path, final.BaseName)
	}
	goBuild, err := d.GoBuild(map[string]string{"GO_TAGS": opts.Variant.GoTags})
	if err != nil {
		return nil, err
	}
	made, err := d.BuildStageDirs()
	if err != nil {
		return nil, err
	}
	bin, err := os.ReadFile(opts.Binary)
	if err != nil {
		return nil, fmt.Errorf("read the %s binary: %w", opts.Variant.Name, err)
	}
	caPath := opts.CACerts
	if caPath == "" {
		caPath = DefaultCACerts
	}
	ca, err := os.ReadFile(caPath)
	if err != nil {
		return nil, fmt.Errorf("read CA certificates for the base (Debian: apt-get install ca-certificates): %w", err)
	}
	img, err := Base(opts.Created, ca)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("base config: %w", err)
	}
	cfg := cf.Config.DeepCopy()
	dirs := map[string]bool{"/": true, "/etc": true, "/etc/ssl": true, "/etc/ssl/certs": true, "/home": true, "/home/nonroot": true, "/root": true, "/tmp": true}

	given := map[string]string{"GO_TAGS": opts.Variant.GoTags}
	for k, v := range opts.Args {
		given[k] = v
	}
	args := map[string]string{}
	consumed := map[string]bool{}
	cmdSet := false
	var adds []mutate.Addendum
	for _, c := range final.Commands {
		env := map[string]string{}
		for k, v := range args {
			env[k] = v
		}
		for _, kv := range cfg.Env {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
		}
		expand := dockerExpander(env)
		if e, ok := c.(instructions.SupportsSingleWordExpansion); ok {
			if err := e.Expand(expand); err != nil {
				return nil, fmt.Errorf("%s: expand %s: %w", d.Path, c, err)
			}
		}
		var layer v1.Layer
		switch c := c.(type) {
		case *instructions.ArgCommand:
			for _, kv := range c.Args {
				if v, ok := given[kv.Key]; ok {
					args[kv.Key], consumed[kv.Key] = v, true
				} else if kv.Value != nil {
					args[kv.Key] = *kv.Value
				} else {
					args[kv.Key] = ""
				}
			}
		case *instructions.LabelCommand:
			if cfg.Labels == nil {
				cfg.Labels = map[string]string{}
			}
			for _, kv := range c.Labels {
				cfg.Labels[kv.Key] = kv.Value
			}
		case *instructions.EnvCommand:
			for _, kv := range c.Env {
				cfg.Env = setEnv(cfg.Env, kv.Key, kv.Value)
			}
		case *instructions.UserCommand:
			cfg.User = c.User
		case *instructions.ExposeCommand:
			if cfg.ExposedPorts == nil {
				cfg.ExposedPorts = map[string]struct{}{}
			}
			for _, p := range c.Ports {
				p, err := expand(p)
				if err != nil {
					return nil, fmt.Errorf("%s: expand EXPOSE %s: %w", d.Path, p, err)
				}
				if !strings.Contains(p, "/") {
					p += "/tcp"
				}
				cfg.ExposedPorts[strings.ToLower(p)] = struct{}{}
			}
		case *instructions.VolumeCommand:
			if cfg.Volumes == nil {
				cfg.Volumes = map[string]struct{}{}
			}
			for _, v := range c.Volumes {
				cfg.Volumes[v] = struct{}{}
			}
		case *instructions.EntrypointCommand:
			cfg.Entrypoint = cmdLine(c.ShellDependantCmdLine)
			if !cmdSet {
				cfg.Cmd = nil // as in BuildKit: ENTRYPOINT drops the base's CMD
			}
		case *instructions.CmdCommand:
			cfg.Cmd, cmdSet = cmdLine(c.ShellDependantCmdLine), true
		case *instructions.StopSignalCommand:
			cfg.StopSignal = c.Signal
		case *instructions.CopyCommand:
			layer, err = copyLayer(c, goBuild.Output(), made, bin, dirs, opts.Created)
			if err != nil {
				return nil, fmt.Errorf("%s: %s: %w", d.Path, c, err)
			}
		default:
			return nil, fmt.Errorf("%s: the daemonless build does not support %q in the final stage", d.Path, c)
		}
		adds = append(adds, mutate.Addendum{Layer: layer, History: v1.History{
			Created:    v1.Time{Time: opts.Created},
			CreatedBy:  fmt.Sprint(c),
			Comment:    "deploy/images",
			EmptyLayer: layer == nil,
		}})
	}
	for k := range given {
		if !consumed[k] {
			return nil, fmt.Errorf("%s: build argument %s is not declared by an ARG of the final stage", d.Path, k)
		}
	}
	var layered []mutate.Addendum
	history := slices.Clone(cf.History) // the base's, then one entry per instruction, in order
	for _, a := range adds {
		if a.Layer != nil {
			layered = append(layered, a)
		}
		history = append(history, a.History)
	}
	img, err = mutate.Append(img, layered...)
	if err != nil {
		return nil, fmt.Errorf("add layers to %s: %w", opts.Variant.Name, err)
	}
	if cf, err = img.ConfigFile(); err != nil {
		return nil, fmt.Errorf("config of %s: %w", opts.Variant.Name, err)
	}
	cf = cf.DeepCopy()
	cf.Config, cf.History = *cfg, history
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, fmt.Errorf("configure %s: %w", opts.Variant.Name, err)
	}
	return img, nil
}

// copyLayer is the layer of a COPY --from=build: the go build line's output becomes the
// binary, a directory made with mkdir -p an empty directory; ownership from --chown (numeric).
func copyLayer(c *instructions.CopyCommand, output string, made []string, bin []byte, dirs map[string]bool, created time.Time) (v1.Layer, error) {
	if !strings.EqualFold(c.From, BuildStageName) {
		return nil, fmt.Errorf("only COPY --from=%s is supported (the build context is not part of the image)", BuildStageName)
	}
	if len(c.SourcePaths) != 1 || c.Parents || c.Link || len(c.ExcludePatterns) > 0 {
		return nil, errors.New("only a single source without --parents, --link or --exclude is supported")
	}
	uid, gid := 0, 0
	if c.Chown != "" {
		u, g, ok := strings.Cut(c.Chown, ":")
		if !ok {
			g = u
		}
		var err1, err2 error
		uid, err1 = strconv.Atoi(u)
		gid, err2 = strconv.Atoi(g)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("--chown=%s: only numeric uid:gid is supported", c.Chown)
		}
	}
	src, dest := path.Clean(c.SourcePaths[0]), c.DestPath
	var e tarEntry
	switch {
	case src == path.Clean(output):
		if strings.HasSuffix(dest, "/") {
			dest += path.Base(src)
		}
		e = tarEntry{mode: 0o755, data: bin}
	case slices.Contains(made, src):
		e = tarEntry{mode: 0o755, dir: true}
	default:
		return nil, fmt.Errorf("source %s is neither the go build output %s nor a directory the build stage makes with mkdir -p %v", src, output, made)
	}
	if c.Chmod != "" {
		m, err := strconv.ParseUint(c.Chmod, 8, 32)
		if err != nil {
			return nil, fmt.Errorf("--chmod=%s: only octal modes are supported", c.Chmod)
		}
		e.mode = int64(m)
	}
	dest = path.Clean(dest)
	if !path.IsAbs(dest) || dest == "/" {
		return nil, fmt.Errorf("destination %s must be an absolute path below /", dest)
	}
	if !dirs[path.Dir(dest)] {
		return nil, fmt.Errorf("the parent of %s is not in the image", dest)
	}
	if e.dir {
		dirs[dest] = true
		dest += "/"
	}
	e.name, e.uid, e.gid = strings.TrimPrefix(dest, "/"), uid, gid
	return tarLayer([]tarEntry{e}, created)
}

func cmdLine(c instructions.ShellDependantCmdLine) []string {
	if c.PrependShell {
		return []string{"/bin/sh", "-c", strings.Join(c.CmdLine, " ")}
	}
	return slices.Clone(c.CmdLine)
}

func setEnv(env []string, key, value string) []string {
	for i, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); k == key {
			env[i] = key + "=" + value
			return env
		}
	}
	return append(env, key+"="+value)
}

type tarEntry struct {
	name     string
	mode     int64
	dir      bool
	uid, gid int
	data     []byte
}

// tarLayer is an OCI layer (gzip) holding entries, every one dated created.
func tarLayer(entries []tarEntry, created time.Time) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{
			Name: e.name, Mode: e.mode, Uid: e.uid, Gid: e.gid, ModTime: created,
			Typeflag: tar.TypeReg, Size: int64(len(e.data)), Format: tar.FormatPAX,
		}
		if e.dir {
			h.Typeflag, h.Size = tar.TypeDir, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("tar %s: %w", e.name, err)
		}
		if _, err := tw.Write(e.data); err != nil {
			return nil, fmt.Errorf("tar %s: %w", e.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("tar: %w", err)
	}
	data := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}, tarball.WithMediaType(types.OCILayer), tarball.WithCompressedCaching)
}

// RefNameAnnotation names an image in an OCI layout's index.
const RefNameAnnotation = "org.opencontainers.image.ref.name"

// WriteLayout writes img as the only image of an OCI layout at dir (replacing what was there),
// named tag.
func WriteLayout(dir string, img v1.Image, tag string) error {
	tmp := dir + ".tmp"
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("clear %s: %w", tmp, err)
	}
	p, err := layout.Write(tmp, empty.Index)
	if err != nil {
		return fmt.Errorf("create OCI layout %s: %w", tmp, err)
	}
	err = p.AppendImage(img,
		layout.WithAnnotations(map[string]string{RefNameAnnotation: tag}),
		layout.WithPlatform(v1.Platform{OS: OS, Architecture: Arch}))
	if err != nil {
		return fmt.Errorf("write image to %s: %w", tmp, err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("replace %s: %w", dir, err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return fmt.Errorf("replace %s: %w", dir, err)
	}
	return nil
}

// ReadLayout reads the one image of the OCI layout at dir, with its index descriptor.
func ReadLayout(dir string) (v1.Image, v1.Descriptor, error) {
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		return nil, v1.Descriptor{}, fmt.Errorf("read OCI layout %s: %w", dir, err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, v1.Descriptor{}, fmt.Errorf("read %s/index.json: %w", dir, err)
	}
	if len(m.Manifests) != 1 {
		return nil, v1.Descriptor{}, fmt.Errorf("%s holds %d manifests, want 1", dir, len(m.Manifests))
	}
	img, err := idx.Image(m.Manifests[0].Digest)
	if err != nil {
		return nil, v1.Descriptor{}, fmt.Errorf("read image from %s: %w", dir, err)
	}
	return img, m.Manifests[0], nil
}

// LayoutDir is where `make images` writes a variant's OCI layout under dir.
func LayoutDir(dir string, v Variant) string { return filepath.Join(dir, v.Name) }

// Push uploads img to ref (registry/repository:tag) with the credentials of the Docker config
// (docker login, or a credential helper). Loopback registries are spoken to over plain HTTP.
func Push(ctx context.Context, img v1.Image, ref string, opts ...remote.Option) error {
	r, err := name.ParseReference(ref, name.StrictValidation)
	if err != nil {
		return fmt.Errorf("image reference %q: %w", ref, err)
	}
	opts = append([]remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain)}, opts...)
	if err := remote.Write(r, img, opts...); err != nil {
		return fmt.Errorf("push %s: %w", ref, err)
	}
	return nil
}
