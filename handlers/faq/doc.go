// Package faq is a handler that answers frequently asked questions from a
// list of entries, usually read from a YAML file:
//
//	entries, err := faq.Load("faq.yaml")
//	if err != nil { … }
//	b.Handle(faq.DefaultRule(), faq.Handler{Entries: entries})
//
// The handler answers a message with the answer of the entry that matches
// it best, and returns [bot.ErrContinue] when no entry matches, so that
// later routes and the NotFound handler still get the message. Registered
// on [bot.Always] (its [DefaultRule]) it therefore fits anywhere among the
// routes; registered on a command, bot.Command("faq"), it looks only at the
// command's arguments.
//
// # File format
//
// The file is a YAML sequence of entries. Each entry is a mapping with
//
//   - answer (required): the reply, sent as is; YAML's block scalars ("|")
//     keep its line breaks;
//   - question: the question in the words a customer would use;
//   - keywords: a list of words or phrases that identify the question.
//
// An entry needs a question, keywords, or both. Other keys are errors, and
// so are empty answers and keywords. For example:
//
//	# faq.yaml
//	- question: What are your opening hours?
//	  keywords: [hours, open, opening times]
//	  answer: We are open Monday to Friday, 9:00 to 17:00.
//	- question: How do I reset my password?
//	  keywords: [password, "can't log in"]
//	  answer: |
//	    Open Settings › Account and choose "Reset password".
//	    You will get an e-mail with a link.
//
// [Parse] and [Load] report problems as a *[ParseError] with the line and
// column of the offending entry or value.
//
// # Matching
//
// Texts are compared as words: a text is split into words at every
// character that is neither a letter nor a digit, the words are lower-cased,
// and a trailing "s" is dropped from words longer than three letters that do
// not end in "ss" (so "hours" and "hour" are the same word). Single letters
// are ignored.
//
//   - A keyword matches when every one of its words occurs in the message,
//     in any order: the keyword "opening times" matches "what times are you
//     opening?".
//   - The question's overlap is the fraction of its content words (its words
//     without common English function words such as "what", "are", "your")
//     that occur in the message.
//
// An entry matches a message when at least one of its keywords matches, or
// when its question's overlap is at least [Handler.Threshold] (default
// [DefaultThreshold], 0.5: half of the question's content words). Of the
// matching entries, the one with the most matching keywords wins; among
// those, the one with the highest overlap; among those, the first in the
// list.
package faq
