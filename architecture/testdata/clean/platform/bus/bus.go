package bus

import (
	_ "github.com/ThreeDotsLabs/watermill/message"
	_ "github.com/switchyardhq/switchyard/contracts/flagsv1"
	_ "github.com/switchyardhq/switchyard/platform/apperr"
)
