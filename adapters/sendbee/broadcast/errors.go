package broadcast

import (
	"errors"
	"fmt"
	"strings"

	"github.com/parleybot/parley/adapters/sendbee"
)

// ErrInvalid is wrapped by every error that reports bad input of a
// campaign: [*InputError], [*TemplateError], [*FillError],
// [*SegmentError] and [*PhoneError]. Such an error is returned before
// anything is sent, and the same input fails again the same way.
var ErrInvalid = errors.New("broadcast: invalid campaign")

// An InputError reports a campaign field that is missing or malformed,
// such as a missing name.
type InputError struct {
	// Field names the field, such as "Name" or "Fill".
	Field string
	// Problem says what is wrong, such as "is required".
	Problem string
}

// Error renders the error as "broadcast: campaign Name is required".
func (e *InputError) Error() string { return "broadcast: campaign " + e.Field + " " + e.Problem }

// Unwrap returns [ErrInvalid].
func (e *InputError) Unwrap() error { return ErrInvalid }

// A TemplateProblem says why a campaign's template cannot be sent.
type TemplateProblem string

// Template problems.
const (
	// TemplateUnknown: the account has no template with the keyword.
	TemplateUnknown TemplateProblem = "unknown template"
	// LanguageUnknown: the template has no version in the language.
	LanguageUnknown TemplateProblem = "unknown language"
	// TemplateNotApproved: the template's version in the language is
	// pending or rejected; only approved templates can be sent.
	TemplateNotApproved TemplateProblem = "not approved"
	// AttachmentMismatch: the template takes a media attachment and the
	// campaign has none, or the other way round.
	AttachmentMismatch TemplateProblem = "attachment mismatch"
)

// A TemplateError reports that the campaign's template cannot be sent.
type TemplateError struct {
	// Keyword and Language are the campaign's.
	Keyword, Language string
	// Problem is why.
	Problem TemplateProblem
	// Languages lists the languages the keyword exists in (LanguageUnknown).
	Languages []string
	// Status is the template's status (TemplateNotApproved).
	Status sendbee.TemplateStatus
	// RejectedReason is Meta's reason for a rejected template.
	RejectedReason string
	// Attachment is the kind of media the template takes, empty for none
	// (AttachmentMismatch).
	Attachment sendbee.AttachmentKind
}

// Error renders the error, such as
// `broadcast: template "welcome" has no "de" version (languages: en, hr)`.
func (e *TemplateError) Error() string {
	switch e.Problem {
	case TemplateUnknown:
		return fmt.Sprintf("broadcast: no message template %q", e.Keyword)
	case LanguageUnknown:
		return fmt.Sprintf("broadcast: template %q has no %q version (languages: %s)", e.Keyword, e.Language, strings.Join(e.Languages, ", "))
	case TemplateNotApproved:
		s := fmt.Sprintf("broadcast: template %q (%s) is %s; only approved templates can be sent", e.Keyword, e.Language, e.Status)
		if e.RejectedReason != "" {
			s += " (rejected: " + e.RejectedReason + ")"
		}
		return s
	case AttachmentMismatch:
		if e.Attachment == sendbee.AttachmentNone {
			return fmt.Sprintf("broadcast: template %q (%s) takes no attachment; leave Attachment empty", e.Keyword, e.Language)
		}
		return fmt.Sprintf("broadcast: template %q (%s) needs an %s attachment URL", e.Keyword, e.Language, e.Attachment)
	}
	return fmt.Sprintf("broadcast: template %q (%s): %s", e.Keyword, e.Language, e.Problem)
}

// Unwrap returns [ErrInvalid].
func (e *TemplateError) Unwrap() error { return ErrInvalid }

// A FillError reports that a campaign's Fill (or ButtonFill) does not fit
// the template's placeholders: a placeholder without a source, or a source
// for a placeholder the template does not have.
type FillError struct {
	// Buttons is true for the button placeholders (ButtonFill).
	Buttons bool
	// Missing are the template's placeholders without a source.
	Missing []string
	// Unknown are Fill keys the template has no placeholder for.
	Unknown []string
	// Template lists the template's placeholders.
	Template []string
}

// Error renders the error, such as
// "broadcast: Fill does not fit the template's placeholders {{1}} {{2}}: no source for {{2}}".
func (e *FillError) Error() string {
	name := "Fill"
	if e.Buttons {
		name = "ButtonFill"
	}
	var parts []string
	if len(e.Missing) > 0 {
		parts = append(parts, "no source for "+braces(e.Missing))
	}
	if len(e.Unknown) > 0 {
		parts = append(parts, "no placeholder "+braces(e.Unknown)+" in the template")
	}
	have := "no placeholders"
	if len(e.Template) > 0 {
		have = "the placeholders " + braces(e.Template)
	}
	return fmt.Sprintf("broadcast: %s does not fit the template, which has %s: %s", name, have, strings.Join(parts, "; "))
}

// Unwrap returns [ErrInvalid].
func (e *FillError) Unwrap() error { return ErrInvalid }

func braces(names []string) string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = "{{" + n + "}}"
	}
	return strings.Join(out, " ")
}

// A SegmentError reports a segment that selects nobody: no criteria at
// all, or criteria no contact matches.
type SegmentError struct {
	Segment Segment
	// Empty is true when the segment has no criteria.
	Empty bool
}

// Error renders the error.
func (e *SegmentError) Error() string {
	if e.Empty {
		return "broadcast: the segment has no criteria; give tags, a status, a search or phone numbers (Status subscribed selects every subscribed contact)"
	}
	return "broadcast: the segment matches no contact (" + e.Segment.String() + ")"
}

// Unwrap returns [ErrInvalid].
func (e *SegmentError) Unwrap() error { return ErrInvalid }

// A PhoneError reports a phone number that is not in international format
// ("+" and 7 to 15 digits, the first not 0).
type PhoneError struct {
	// Line is the 1-based line of a CSV file ([ReadPhones]); 0 otherwise.
	Line int
	// Index is the 0-based position in Segment.Phones when Line is 0.
	Index int
	// Phone is the value as given.
	Phone string
}

// Error renders the error, such as
// `broadcast: line 7: "0911234567" is not a phone number in international format (+ and 7 to 15 digits)`.
func (e *PhoneError) Error() string {
	where := fmt.Sprintf("phone %d", e.Index+1)
	if e.Line > 0 {
		where = fmt.Sprintf("line %d", e.Line)
	}
	return fmt.Sprintf("broadcast: %s: %q is not a phone number in international format (+ and 7 to 15 digits)", where, e.Phone)
}

// Unwrap returns [ErrInvalid].
func (e *PhoneError) Unwrap() error { return ErrInvalid }
