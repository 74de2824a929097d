// Package broadcast sends a proactive campaign on Sendbee: one approved
// WhatsApp template to every contact of a segment (by tags, subscription
// status, a search, or a list of phone numbers), its placeholders filled
// per contact from the contact's name, phone number and contact fields.
//
//	rep, err := broadcast.Run(ctx, client, store, broadcast.Campaign{
//		Name:     "spring-2026",
//		Template: "welcome", Language: "en",
//		Segment:  broadcast.Segment{Tags: []string{"lead"}, Status: sendbee.ContactSubscribed},
//		Fill:     map[string]string{"1": "name"},
//		PreventBotOff: true,
//	}, broadcast.Options{RateLimit: 60})
//
// # Checks before sending
//
// [Run] and [DryRun] check the whole campaign before the first send:
// a missing name, template keyword or language ([*InputError]), a template
// that does not exist, has no version in the language, is not approved or
// needs another attachment ([*TemplateError]), placeholders without a
// source or sources for placeholders the template does not have
// ([*FillError]), a segment with no criteria or that matches nobody
// ([*SegmentError]), and phone numbers that are not in international
// format ([*PhoneError], with the line of a CSV read by [ReadPhones]). All
// of them wrap [ErrInvalid].
//
// # Pacing
//
// Sendbee allows 60 requests per minute per business number. A run makes
// one request at a time and paces every request (the template and contact
// lists, the sends, the checks of a resume): with its own limiter at
// [Options.RateLimit], or, given a [bot.Pacer] (a Bot running the same
// Sendbee adapter), by taking each request's turn from the Bot, so that the
// campaign and the bot's replies share one budget. A 429 answer is waited
// out (Retry-After) and the same request made again; a window that the
// X-RateLimit-Remaining header says is spent is waited out before the
// next request.
//
// # Exactly once
//
// A bot.Store (the JetStream store of storage/jetstream for a campaign that
// must survive the machine) keeps one record per campaign and contact,
// written before each send and after it, so that running the same campaign
// again after a crash or an interruption sends to each contact at most
// once; see [Run] for how a send whose result was never recorded is
// checked on the platform, and reported Unknown when the platform cannot
// tell.
//
// # Concurrency
//
// Run and DryRun are safe to call from several goroutines for different
// campaigns; two runs of the same campaign at the same time may send
// twice. A run uses its calling goroutine only.
package broadcast
