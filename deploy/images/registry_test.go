package images

import (
	"context"
	"io"
	"log"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// TestPushAndPullThroughARegistry pushes every image with [Push] (what `make images-push`
// runs) to a registry on loopback (go-containerregistry's, the one `crane registry serve`
// runs), pulls it back by tag, and checks the pulled image: same digest, same platform, every
// check passes on what a cluster would pull.
func TestPushAndPullThroughARegistry(t *testing.T) {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	for _, v := range Variants {
		t.Run(v.Name, func(t *testing.T) {
			img, desc := loadImage(t, v)
			ref := host + "/switchyardhq/" + v.Name + ":test"
			if err := Push(context.Background(), img, ref); err != nil {
				t.Fatal(err)
			}
			r, err := name.ParseReference(ref)
			if err != nil {
				t.Fatal(err)
			}
			got, err := remote.Get(r)
			if err != nil {
				t.Fatalf("pull %s: %v", ref, err)
			}
			if got.Digest != desc.Digest {
				t.Errorf("pulled %s has digest %s, pushed %s", ref, got.Digest, desc.Digest)
			}
			pulled, err := got.Image()
			if err != nil {
				t.Fatal(err)
			}
			ps, err := CheckImage(pulled, v)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range ps {
				t.Errorf("pulled %s: %s", ref, p)
			}
		})
	}
}
