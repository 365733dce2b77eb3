package k8s

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/json"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/yaml"
)

// scheme knows exactly the API groups and versions the manifests may use: anything else
// (another kind, or a deprecated version of a known one) does not decode.
var scheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		corev1.AddToScheme, appsv1.AddToScheme, autoscalingv2.AddToScheme,
		policyv1.AddToScheme, networkingv1.AddToScheme,
	} {
		utilruntime.Must(add(s))
	}
	return s
}()

// strictYAML fails on a field the Go type does not have and on a field given twice.
var strictYAML = json.NewSerializerWithOptions(json.DefaultMetaFactory, scheme, scheme,
	json.SerializerOptions{Yaml: true, Strict: true})

// Manifest is a rendered overlay, decoded into the Kubernetes API's types.
type Manifest struct {
	Namespaces      []*corev1.Namespace
	ServiceAccounts []*corev1.ServiceAccount
	ConfigMaps      []*corev1.ConfigMap
	Secrets         []*corev1.Secret
	Services        []*corev1.Service
	Deployments     []*appsv1.Deployment
	HPAs            []*autoscalingv2.HorizontalPodAutoscaler
	PDBs            []*policyv1.PodDisruptionBudget
	NetworkPolicies []*networkingv1.NetworkPolicy
}

// Decode splits multi-document YAML and decodes each document strictly into its kind's
// type. Every problem is reported, each with the document's position and kind/name.
func Decode(data []byte) (*Manifest, error) {
	m := &Manifest{}
	reader := yaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var errs []error
	for i := 1; ; i++ {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		obj, gvk, err := strictYAML.Decode(doc, nil, nil)
		if err != nil {
			errs = append(errs, fmt.Errorf("document %d (%s): %w", i, describe(doc), err))
			continue
		}
		switch o := obj.(type) {
		case *corev1.Namespace:
			m.Namespaces = append(m.Namespaces, o)
		case *corev1.ServiceAccount:
			m.ServiceAccounts = append(m.ServiceAccounts, o)
		case *corev1.ConfigMap:
			m.ConfigMaps = append(m.ConfigMaps, o)
		case *corev1.Secret:
			m.Secrets = append(m.Secrets, o)
		case *corev1.Service:
			m.Services = append(m.Services, o)
		case *appsv1.Deployment:
			m.Deployments = append(m.Deployments, o)
		case *autoscalingv2.HorizontalPodAutoscaler:
			m.HPAs = append(m.HPAs, o)
		case *policyv1.PodDisruptionBudget:
			m.PDBs = append(m.PDBs, o)
		case *networkingv1.NetworkPolicy:
			m.NetworkPolicies = append(m.NetworkPolicies, o)
		default:
			errs = append(errs, fmt.Errorf("document %d (%s): kind %s is not one the project deploys", i, describe(doc), gvk))
		}
	}
	return m, errors.Join(errs...)
}

// describe names a document for error messages without trusting it to decode.
func describe(doc []byte) string {
	var head struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Name string `json:"name"`
		} `json:"metadata"`
	}
	if err := yaml.Unmarshal(doc, &head); err != nil {
		return "unparsable"
	}
	return strings.TrimPrefix(fmt.Sprintf("%s %s/%s", head.APIVersion, head.Kind, head.Metadata.Name), " ")
}
