// Command switchyard-images builds Switchyard's container images from deploy/Dockerfile
// without a Docker engine, checks them, and pushes them to a registry.
//
//	switchyard-images build -root . -out bin/images -version v1.2.3 -revision <sha> -created <unix>
//	switchyard-images check -images bin/images
//	switchyard-images push  -images bin/images -registry ghcr.io/switchyardhq -tag v1.2.3
//
// build expects the binaries `make build build-command build-read` wrote (GOOS=linux
// GOARCH=amd64); `make images` runs both steps.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/switchyardhq/switchyard/deploy/images"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(ctx, os.Args[1:], os.Stdout, logger); err != nil {
		logger.Error("switchyard-images failed", "err", err)
		os.Exit(1)
	}
}

const usage = "usage: switchyard-images build|check|push [flags] (-h for a command's flags)"

func run(ctx context.Context, args []string, stdout io.Writer, logger *slog.Logger) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	dir := fs.String("images", "bin/images", "directory of the OCI layouts, one per image")
	only := fs.String("only", "", "comma-separated image names (default: every image)")
	switch args[0] {
	case "build":
		root := fs.String("root", ".", "repository root (deploy/Dockerfile, the binaries)")
		version := fs.String("version", "dev", "VERSION build argument (org.opencontainers.image.version)")
		revision := fs.String("revision", "unknown", "REVISION build argument (org.opencontainers.image.revision)")
		created := fs.Int64("created", 0, "image and file dates, Unix seconds (e.g. the commit's time)")
		tag := fs.String("tag", "dev", "tag recorded in each OCI layout's index")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		variants, err := selected(*only)
		if err != nil {
			return err
		}
		for _, v := range variants {
			start := time.Now()
			img, err := images.Build(images.BuildOptions{
				Dockerfile: filepath.Join(*root, "deploy", "Dockerfile"),
				Variant:    v,
				Binary:     filepath.Join(*root, v.Binary),
				Args:       map[string]string{"VERSION": *version, "REVISION": *revision},
				Created:    time.Unix(*created, 0).UTC(),
			})
			if err != nil {
				return fmt.Errorf("build %s: %w", v.Name, err)
			}
			out := images.LayoutDir(*dir, v)
			if err := images.WriteLayout(out, img, *tag); err != nil {
				return fmt.Errorf("write %s: %w", v.Name, err)
			}
			digest, err := img.Digest()
			if err != nil {
				return fmt.Errorf("digest of %s: %w", v.Name, err)
			}
			logger.Info("image built", "image", v.Name, "go_tags", v.GoTags, "layout", out, "digest", digest.String(),
				"took", time.Since(start).Round(time.Millisecond))
		}
		return nil
	case "check":
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		variants, err := selected(*only)
		if err != nil {
			return err
		}
		failed := 0
		for _, v := range variants {
			img, _, err := images.ReadLayout(images.LayoutDir(*dir, v))
			if err != nil {
				return err
			}
			problems, err := images.CheckImage(img, v)
			if err != nil {
				return fmt.Errorf("check %s: %w", v.Name, err)
			}
			for _, p := range problems {
				fmt.Fprintf(stdout, "%s: %s\n", v.Name, p)
			}
			if len(problems) == 0 {
				fmt.Fprintf(stdout, "%s: ok\n", v.Name)
			}
			failed += len(problems)
		}
		if failed > 0 {
			return fmt.Errorf("%d problems", failed)
		}
		return nil
	case "push":
		registry := fs.String("registry", "", "registry and namespace, e.g. ghcr.io/switchyardhq (required)")
		tag := fs.String("tag", "", "tag to push, e.g. the commit or release (required)")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if *registry == "" || *tag == "" {
			return errors.New("push needs -registry and -tag")
		}
		variants, err := selected(*only)
		if err != nil {
			return err
		}
		for _, v := range variants {
			img, _, err := images.ReadLayout(images.LayoutDir(*dir, v))
			if err != nil {
				return err
			}
			ref := strings.TrimSuffix(*registry, "/") + "/" + v.Name + ":" + *tag
			if err := images.Push(ctx, img, ref); err != nil {
				return err
			}
			digest, err := img.Digest()
			if err != nil {
				return fmt.Errorf("digest of %s: %w", v.Name, err)
			}
			logger.Info("image pushed", "ref", ref, "digest", digest.String())
		}
		return nil
	default:
		return fmt.Errorf("unknown command %q; %s", args[0], usage)
	}
}

func selected(only string) ([]images.Variant, error) {
	if only == "" {
		return images.Variants, nil
	}
	var out []images.Variant
	for _, n := range strings.Split(only, ",") {
		v, ok := images.VariantNamed(strings.TrimSpace(n))
		if !ok {
			return nil, fmt.Errorf("no image named %q (images: %s)", n, names())
		}
		out = append(out, v)
	}
	return out, nil
}

func names() string {
	var n []string
	for _, v := range images.Variants {
		n = append(n, v.Name)
	}
	return strings.Join(n, ", ")
}
