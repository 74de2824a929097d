package admin

// SetStreamStarted sets a function every event stream calls once it has
// subscribed, before it reads its first event; nil removes it.
func SetStreamStarted(f func()) { streamStarted = f }
