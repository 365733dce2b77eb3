package migrate

import (
	_ "io/fs"
)
