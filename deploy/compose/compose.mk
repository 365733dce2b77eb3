# deploy/compose.yaml's check: compose-go (docker compose's own loader) validates it against the
# Compose schema, then the project's rules (deploy/compose/rules.go) run on the loaded model.
# No Docker engine needed; about 5 s cold, cached by go test when nothing changed.

.PHONY: compose-check

## compose-check: deploy/compose.yaml against the compose schema and the project's rules (GO_TAGS per
## service, the environment each binary needs, health-gated depends_on, no latest tags)
compose-check:
	cd deploy && $(GO) test ./compose/...
