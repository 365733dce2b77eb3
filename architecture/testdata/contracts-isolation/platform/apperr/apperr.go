package apperr

import (
	_ "errors"
)
