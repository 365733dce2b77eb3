// Package k8s checks the Kubernetes manifests in this directory: every overlay is rendered
// with kustomize, every rendered object is decoded strictly into the Kubernetes API's Go
// types (an unknown kind or a misspelled field fails), and the project's rules are checked
// on the rendered output, because a kustomize patch whose target matches nothing is
// dropped without a word. The tests also apply both overlays with a server-side dry run
// to a real kube-apiserver when one is built (make k8s-dry-run).
package k8s
