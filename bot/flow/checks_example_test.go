package flow_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/flow"
)

// show prints what check makes of each answer: the value saved, or the
// reason of the refusal and the re-ask.
func show(check flow.Check, a flow.Answer) {
	v, err := check.Check(context.Background(), a)
	var invalid *flow.InvalidError
	switch {
	case errors.As(err, &invalid):
		fmt.Printf("%q: refused (%s), asks again:\n%s\n", a.Text, invalid.Reason, invalid.Reask)
	case err != nil:
		fmt.Printf("%q: error %v\n", a.Text, err)
	default:
		fmt.Printf("%q: %v\n", a.Text, v)
	}
}

func ExampleOneOfChoices() {
	payment := flow.OneOfChoices(
		flow.Choice{Value: "card", Label: "Credit card", Synonyms: []string{"visa", "mastercard", "kartica"}},
		flow.Choice{Value: "cash", Label: "Cash on delivery", Synonyms: []string{"gotovina", "pouzeće"}},
		flow.Choice{Value: "transfer", Label: "Bank transfer"},
	)
	// The step's question shows the list; its Check is payment.
	fmt.Println("How would you like to pay?\n" + payment.List())
	fmt.Println()
	for _, text := range []string{"2", "#3", "Visa", "pouzece", "bank", "bitcoin"} {
		show(payment, flow.Answer{Text: text})
	}
	// Output:
	// How would you like to pay?
	// 1. Credit card
	// 2. Cash on delivery
	// 3. Bank transfer
	//
	// "2": cash
	// "#3": transfer
	// "Visa": card
	// "pouzece": cash
	// "bank": transfer
	// "bitcoin": refused (not one of the choices), asks again:
	// Please reply with the number or the name of one of these:
	// 1. Credit card
	// 2. Cash on delivery
	// 3. Bank transfer
}

func ExampleYesNo() {
	confirm := flow.YesNo()
	for _, text := range []string{"Yes!", "da", "Nein", "oui", "👍", "2", "maybe"} {
		show(confirm, flow.Answer{Text: text})
	}
	// Output:
	// "Yes!": true
	// "da": true
	// "Nein": false
	// "oui": true
	// "👍": true
	// "2": false
	// "maybe": refused (not one of the choices), asks again:
	// Please answer yes or no.
}

func ExampleDate() {
	// Answers sent on Monday 15 June 2026, in the afternoon in Zagreb.
	zagreb := time.FixedZone("CEST", 2*60*60)
	sent := time.Date(2026, 6, 15, 14, 0, 0, 0, zagreb)
	when := flow.DateIn(zagreb)
	for _, text := range []string{"24.12.2026", "2026-12-24", "24. 12.", "1.3.", "tomorrow", "sutra", "31.2.2026"} {
		show(when, flow.Answer{Message: &bot.Message{Text: text, Time: sent}, Text: text})
	}
	// Output:
	// "24.12.2026": 2026-12-24 00:00:00 +0200 CEST
	// "2026-12-24": 2026-12-24 00:00:00 +0200 CEST
	// "24. 12.": 2026-12-24 00:00:00 +0200 CEST
	// "1.3.": 2027-03-01 00:00:00 +0200 CEST
	// "tomorrow": 2026-06-16 00:00:00 +0200 CEST
	// "sutra": 2026-06-16 00:00:00 +0200 CEST
	// "31.2.2026": refused (not a date), asks again:
	// Please send a date, like 24.12.2026.
}
