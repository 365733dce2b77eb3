// Package pipeline checks the CI/CD pipeline's shape in .github/workflows/ without running
// it: the command and read jobs fan in at the contracts gate; images and the deploys need
// (transitively) both sides and the gate; the read side deploys before the command side;
// every make target a workflow or a local action calls exists in the Makefile or a
// deploy/*.mk fragment; every action is pinned by commit SHA; .ci/run, the local truth,
// runs the same make targets as the workflow's verification jobs. It also renders the
// release kustomization the deploy jobs apply and checks which objects each deploy step
// touches.
//
// actionlint (`make workflow-lint`) checks what GitHub Actions itself would reject; these
// tests check the project's rules, and each rule is shown to fail on a broken workflow.
package pipeline
