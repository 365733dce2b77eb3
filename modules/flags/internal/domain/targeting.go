package domain

import (
	"encoding/json"
	"errors"
	"strings"

	"github.com/switchyardhq/switchyard/contracts/flagsv1"
	"github.com/switchyardhq/switchyard/contracts/targeting"
	"github.com/switchyardhq/switchyard/platform/apperr"
)

// compileRule compiles rule with the targeting engine the read side evaluates with, so
// that a rule the flags module accepts is one the evaluation module can run. A compile
// error becomes Invalid at the engine's JSON path ("targeting.if[0]...",
// "$evaluators.name...").
func compileRule(rule json.RawMessage, evaluators map[string]json.RawMessage) (*targeting.Rule, error) {
	r, err := targeting.Compile(rule, evaluators)
	var ce *targeting.CompileError
	switch {
	case errors.As(err, &ce):
		return nil, apperr.InvalidField(ce.Path, "%s", ce.Msg)
	case err != nil:
		return nil, apperr.InvalidField("targeting", "%v", err)
	}
	return r, nil
}

// CheckTargeting compiles def's targeting against evaluators and, when the rule's
// possible variants are statically known, checks that each is one of def's variants.
// The error is Invalid and names the JSON path at fault.
func CheckTargeting(def flagsv1.Definition, evaluators map[string]json.RawMessage) error {
	if len(def.Targeting) == 0 {
		return nil
	}
	r, err := compileRule(def.Targeting, evaluators)
	if err != nil {
		return err
	}
	variants, complete := r.Variants()
	if !complete {
		return nil
	}
	for _, v := range variants {
		if _, ok := def.Variants[v]; !ok {
			return apperr.InvalidField("targeting", "targeting can return variant %q, which is not among the variants (%s)",
				v, strings.Join(sortedKeys(def.Variants), ", "))
		}
	}
	return nil
}

// checkEvaluator compiles the shared rule name on its own, so that a broken evaluator is
// reported at its own path even when no flag uses it.
func checkEvaluator(name string, evaluators map[string]json.RawMessage) error {
	ref, err := json.Marshal(map[string]string{"$ref": name})
	if err != nil {
		return err
	}
	_, err = compileRule(ref, evaluators)
	var ae *apperr.Error
	if errors.As(err, &ae) && !strings.HasPrefix(ae.Field, "$evaluators") {
		ae.Field = "$evaluators." + name
	}
	return err
}
