package app

import (
	"encoding/json"
	"sort"
	"strconv"

	"github.com/switchyardhq/switchyard/contracts/flagsv1"
	"github.com/switchyardhq/switchyard/modules/flags/internal/domain"
	"github.com/switchyardhq/switchyard/platform/httpx"
)

// ParseFlagFile decodes a flagd flag file strictly (unknown fields are refused), flag by
// flag, so that every flag's decoding problem is reported at its path at once.
func ParseFlagFile(data []byte) (domain.FlagFile, error) {
	var raw struct {
		Schema     string                     `json:"$schema"`
		Flags      map[string]json.RawMessage `json:"flags"`
		Evaluators map[string]json.RawMessage `json:"$evaluators"`
		Metadata   map[string]any             `json:"metadata"`
	}
	if err := httpx.DecodeStrict(data, &raw); err != nil {
		return domain.FlagFile{}, err
	}
	var errs domain.FieldErrors
	if raw.Flags == nil {
		errs.Add("flags", "flags is required: an object of flag key -> flagd definition")
	}
	file := domain.FlagFile{Schema: raw.Schema, Flags: make(map[string]flagsv1.Definition, len(raw.Flags)),
		Evaluators: raw.Evaluators, Metadata: raw.Metadata}
	keys := make([]string, 0, len(raw.Flags))
	for key := range raw.Flags {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	for _, key := range keys {
		var def flagsv1.Definition
		if err := httpx.DecodeStrict(raw.Flags[key], &def); err != nil {
			errs.AddErr("flags."+key+".", "flag "+strconv.Quote(key)+": ", err)
			continue
		}
		file.Flags[key] = def
	}
	if len(errs) > 0 {
		return domain.FlagFile{}, errs
	}
	return file, nil
}
