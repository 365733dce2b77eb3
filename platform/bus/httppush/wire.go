package httppush

import (
	"net/url"
	"strings"
)

// Headers and paths of the push protocol.
const (
	HeaderEventID   = "Switchyard-Event-Id"
	HeaderEventType = "Switchyard-Event-Type"
	// RoutePath is the receiver's echo route; Path builds a concrete one.
	RoutePath = "/internal/v1/topics/:topic/events"
)

// Path is the path a push of topic is posted to.
func Path(topic string) string {
	return "/internal/v1/topics/" + url.PathEscape(topic) + "/events"
}

// eventTypeValid bounds what the receiver accepts as an event type: a short token.
func eventTypeValid(t string) bool {
	if t == "" || len(t) > 100 {
		return false
	}
	return strings.IndexFunc(t, func(r rune) bool {
		return !(r == '_' || r == '.' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	}) < 0
}
