// Package ofrepv1 holds the wire shapes of the OpenFeature Remote Evaluation Protocol
// (open-feature/protocol, service/openapi.yaml) as Switchyard serves them. The evaluation
// module encodes them; HTTP clients (the SDK's transport) decode them.
package ofrepv1
