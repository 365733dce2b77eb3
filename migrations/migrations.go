package migrations

import (
	"embed"
	"fmt"
	"io/fs"
)

//go:embed flags evaluation audit
var files embed.FS

// Modules lists the modules that own migrations, in the order they are applied.
func Modules() []string { return []string{"flags", "evaluation", "audit"} }

// For returns the migrations of module for dialect ("sqlite" or "postgres").
func For(module, dialect string) (fs.FS, error) {
	sub, err := fs.Sub(files, module+"/"+dialect)
	if err != nil {
		return nil, fmt.Errorf("migrations for %s/%s: %w", module, dialect, err)
	}
	if entries, err := fs.ReadDir(sub, "."); err != nil || len(entries) == 0 {
		return nil, fmt.Errorf("no migrations for %s/%s", module, dialect)
	}
	return sub, nil
}
