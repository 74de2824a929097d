package bot

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sync"
	"time"
)

// payloadTypes maps the registered payload names to their types and back.
var payloadTypes struct {
	sync.RWMutex
	byName map[string]reflect.Type
	byType map[reflect.Type]string
}

// RegisterPayload records T as an outbound Message.Payload type under name,
// so that a [Broker] can store messages carrying it and give them back with
// a Payload of type T. Adapters register their payload types in an init
// function, with names prefixed by the adapter's ("sendbee.Template").
//
// A payload of type T or *T is stored as JSON, so T must round-trip through
// encoding/json; it comes back as a T. RegisterPayload panics when name or
// T is already registered with a different counterpart.
func RegisterPayload[T any](name string) {
	t := reflect.TypeFor[T]()
	if name == "" {
		panic("bot: RegisterPayload with an empty name")
	}
	if t.Kind() == reflect.Pointer || t.Kind() == reflect.Interface {
		panic(fmt.Sprintf("bot: RegisterPayload[%v]: register the value type, not a pointer or interface", t))
	}
	payloadTypes.Lock()
	defer payloadTypes.Unlock()
	if payloadTypes.byName == nil {
		payloadTypes.byName = map[string]reflect.Type{}
		payloadTypes.byType = map[reflect.Type]string{}
	}
	if old, ok := payloadTypes.byName[name]; ok && old != t {
		panic(fmt.Sprintf("bot: payload name %q is registered for %v", name, old))
	}
	if old, ok := payloadTypes.byType[t]; ok && old != name {
		panic(fmt.Sprintf("bot: payload type %v is registered as %q", t, old))
	}
	payloadTypes.byName[name] = t
	payloadTypes.byType[t] = name
}

// wireMessage is the stored form of a Message: its fields, with the
// payload as its registered name and JSON value. The outer Payload field
// shadows Message.Payload in encoding/json.
type wireMessage struct {
	Message
	Payload *wirePayload `json:",omitempty"`
	// Queued carries Message.queued, when a Handoff message was queued.
	Queued time.Time `json:",omitzero"`
}

type wirePayload struct {
	Type  string          `json:"type"`
	Value json.RawMessage `json:"value"`
}

// MarshalMessage encodes m for storage by a [Broker]: JSON with every
// field of m, including Raw, Key, Relay and a Payload of a type registered
// with [RegisterPayload]. An unregistered payload type is an error.
func MarshalMessage(m *Message) ([]byte, error) {
	w := wireMessage{Message: *m, Queued: m.queued}
	w.Message.Payload = nil
	if m.Payload != nil {
		v := reflect.ValueOf(m.Payload)
		if v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return nil, fmt.Errorf("bot: marshal message: nil %T payload", m.Payload)
			}
			v = v.Elem()
		}
		payloadTypes.RLock()
		name, ok := payloadTypes.byType[v.Type()]
		payloadTypes.RUnlock()
		if !ok {
			return nil, fmt.Errorf("bot: marshal message: payload type %T is not registered (bot.RegisterPayload)", m.Payload)
		}
		val, err := json.Marshal(v.Interface())
		if err != nil {
			return nil, fmt.Errorf("bot: marshal message: payload %s: %w", name, err)
		}
		w.Payload = &wirePayload{Type: name, Value: val}
	}
	b, err := json.Marshal(&w)
	if err != nil {
		return nil, fmt.Errorf("bot: marshal message: %w", err)
	}
	return b, nil
}

// UnmarshalMessage decodes a message encoded by [MarshalMessage]. Its
// payload comes back as the registered value type.
func UnmarshalMessage(data []byte) (*Message, error) {
	var w wireMessage
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, fmt.Errorf("bot: unmarshal message: %w", err)
	}
	m := w.Message
	m.queued = w.Queued
	if w.Payload != nil {
		payloadTypes.RLock()
		t, ok := payloadTypes.byName[w.Payload.Type]
		payloadTypes.RUnlock()
		if !ok {
			return nil, fmt.Errorf("bot: unmarshal message: unknown payload type %q (bot.RegisterPayload)", w.Payload.Type)
		}
		p := reflect.New(t)
		if err := json.Unmarshal(w.Payload.Value, p.Interface()); err != nil {
			return nil, fmt.Errorf("bot: unmarshal message: payload %s: %w", w.Payload.Type, err)
		}
		m.Payload = p.Elem().Interface()
	}
	return &m, nil
}
