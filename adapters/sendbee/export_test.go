package sendbee

// SetMaxPhones bounds a's conversation → phone cache at n entries instead
// of maxPhones, so that a test can fill it.
func SetMaxPhones(a *Adapter, n int) {
	a.mu.Lock()
	a.maxPhones = n
	a.mu.Unlock()
}
