package bot

// Template payloads can be stored by a Broker.
func init() { RegisterPayload[Template]("bot.Template") }

// A Template is an outbound [Message.Payload] that sends a message template
// the platform has approved — a WhatsApp template on Sendbee — instead of
// free text, for example to write to a customer outside the platform's
// customer-service window. It is platform-neutral, so that handlers and
// rules files can send templates without importing an adapter.
//
// An adapter whose platform has approved templates sends it (and ignores
// Message.Text); adapters should accept both Template and *Template. An
// adapter whose platform has none returns an error wrapping
// errors.ErrUnsupported. A Template is a plain value: the Bot does not
// modify it, and whoever builds it must not modify its maps once the
// message is sent.
type Template struct {
	// Keyword is the template's name (keyword) on the platform. Required.
	Keyword string
	// Language is the language code of the template, such as "en".
	// Required.
	Language string
	// Tags are the values of the body placeholders by name or number, as
	// the platform numbers them: {"1": "Ana"}.
	Tags map[string]string
	// ButtonTags are the values of dynamic button URL placeholders.
	ButtonTags map[string]string
	// Attachment is the media URL of a template with a media header.
	Attachment string
}
