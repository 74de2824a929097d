// Package console is a [bot.Adapter] that chats on a terminal: every line
// typed on standard input is a message to the bot, and the bot's replies are
// printed on standard output. It needs no account, token or network, which
// makes it the zero-configuration default of the example bots and a quick
// way to try handlers by hand.
//
//	c, err := console.New(console.Config{})
//	if err != nil {
//		return err
//	}
//	b, err := bot.New(bot.WithAdapters(c))
//
// # Messages
//
// The console has a single conversation, named "console" unless
// [Config.Conversation] says otherwise, and every inbound message is
// Direct, so a command rule matches "echo hi" as well as "/echo hi". Each
// non-blank line becomes one [bot.Message] with:
//
//   - ID: a random per-run nonce and the line's sequence number, such as
//     "3f9a02c1d4e5-1", so that IDs never repeat across runs (the Bot
//     deduplicates on Platform and ID, possibly in a durable store);
//   - Platform "console", Kind [bot.KindMessage], Time the moment the line
//     was read;
//   - Author: ID and Name both [Config.User];
//   - Text: the line without leading and trailing white space;
//   - Raw: the line exactly as read (without its line break), as a JSON
//     string.
//
// Blank lines are not published. Lines are published in input order, and
// Publish pushes back: while the Bot's queue is full, the console stops
// reading.
//
// # Output
//
// [Adapter.Send] writes each message whole, under a lock, with every line
// prefixed by "bot: " or indented as much, so that the bot's lines stand out
// from the user's:
//
//	> help
//	bot: Commands:
//	     help         — list the commands
//	     echo <text>  — repeat <text>
//
// Attachments follow the text as "[kind] url" lines. A message with a
// Payload is refused with an error wrapping [errors.ErrUnsupported].
//
// When both In and Out are a terminal, the adapter shows a prompt ("> ")
// while it waits for a line, and redraws it below each reply. With a pipe or
// a file there is no prompt, so that the output can be read by a program;
// set [Config.Prompt] to show one anyway.
//
// # Line editing
//
// When In is a terminal (an *os.File such as os.Stdin) and Out is one too,
// Run edits lines itself (with golang.org/x/term): it puts the terminal in
// raw mode, and the user moves in the line with the arrow keys, Home and
// End (Ctrl-A, Ctrl-E), deletes a word with Ctrl-W and the rest of the line
// with Ctrl-K, and recalls earlier lines with the up and down arrows. A
// reply written while the user types
// is printed above the prompt, which is drawn again below it with the
// half-typed line. Run restores the terminal's mode whenever it returns:
// at end of input, on Ctrl-C, when its context is cancelled, and when it
// panics. If the terminal cannot be put in raw mode, Run logs a warning and
// reads lines as from a pipe.
//
// In raw mode the terminal sends Ctrl-C to the program as a key instead of
// raising SIGINT. Run treats it as the signal would be: it restores the
// terminal, calls [Config.Interrupt], which by default sends os.Interrupt to
// the process (so that a program that stops on SIGINT, as the parley
// command does, stops the same way), and returns nil. The line being typed
// is dropped. Ctrl-D at the start of a line ends the input, as before. Other
// keys that a terminal turns into signals (Ctrl-Z, Ctrl-\) do nothing.
//
// With a pipe or a file as In, lines are read as they are, without any of
// this.
//
// # End of input and cancellation
//
// At end of input (Ctrl-D on a terminal, or the end of a piped file)
// [Adapter.Run] returns nil; on Ctrl-C too, after the interrupt (see "Line
// editing"). A Bot whose adapters have all returned handles
// the messages already queued, delivers the replies and returns, so a bot
// with only a console exits cleanly. With a durable Broker
// (storage/jetstream) the Bot likewise answers every line it stored before
// it returns.
//
// When its context is cancelled, Run returns nil at once even though
// reading blocks: it reads in a goroutine of its own, which stops handing
// over lines. When Run returns, it closes In if In is an [io.Closer], which
// ends a Read in progress (on an [io.Pipe], a socket, a file) so that the
// goroutine exits with Run. It never closes [os.Stdin], because a Read
// blocked on a terminal cannot be interrupted (closing os.Stdin would not
// end it, and would take standard input away from the rest of the program).
// So when In is os.Stdin and Run is cancelled, that goroutine stays blocked
// until the next line or end of input, then drops the line and exits. This
// matters only to a program that goes on running after its bot stopped;
// tests should use a pipe or a [strings.Reader] as In.
//
// # Earlier runs
//
// Each run of the adapter is a session of its own: it shows the answers to
// its own lines only. With a durable Broker, a line or a reply an earlier
// run left unanswered (the process was killed, or stopped with Ctrl-C
// before handling everything) is kept, and handled by a later run: its
// handlers run, so the state they keep is as if the line had been answered,
// but the reply is not written. The later run's terminal, or the program
// reading its output, never asked, and a piped input gets exactly the
// answers to its own lines. Send recognises such a reply by its ReplyTo,
// an ID from another run, skips it and reports success (the reply is done
// with, not retried or dead-lettered); it logs that at Info. Messages
// that answer no line, such as a scheduled job's, are always written.
package console
