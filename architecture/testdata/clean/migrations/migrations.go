package migrations

import (
	_ "embed"
	_ "io/fs"
)
