package ofrepv1

import (
	_ "encoding/json"
)
