// Package flow holds conversations: multi-turn flows that ask a question,
// wait for the answer, check it, remember it and move on, durable across
// restarts and shared across replicas.
package flow
