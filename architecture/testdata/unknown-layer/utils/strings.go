package utils

import (
	_ "strings"
)
