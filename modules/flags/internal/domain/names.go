package domain

import (
	"regexp"

	"github.com/switchyardhq/switchyard/platform/apperr"
)

var (
	flagKeyPattern     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$`)
	environmentPattern = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`)
)

// ValidateFlagKey checks a flag key: 1-128 characters, letters, digits, '_', '.', '-',
// starting with a letter or digit.
func ValidateFlagKey(key string) error {
	if !flagKeyPattern.MatchString(key) {
		return apperr.InvalidField("key", "flag key %q is invalid: use 1-128 letters, digits, '_', '.' or '-', starting with a letter or digit", key)
	}
	return nil
}

// ValidateEnvironment checks an environment name: 1-63 lowercase letters, digits and
// '-', not starting or ending with '-' (a DNS label, so it can name namespaces too).
func ValidateEnvironment(env string) error {
	if !environmentPattern.MatchString(env) {
		return apperr.InvalidField("environment", "environment name %q is invalid: use 1-63 lowercase letters, digits or '-', not starting or ending with '-'", env)
	}
	return nil
}
