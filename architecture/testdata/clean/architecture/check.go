package architecture

import (
	_ "go/parser"
)
