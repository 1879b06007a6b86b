package slack

// SetAfterPostHook lets tests stop a sender between posting a card and
// recording it; it returns a function restoring the previous hook.
func SetAfterPostHook(f func(leadID int64)) (restore func()) {
	prev := afterPostHook
	afterPostHook = f
	return func() { afterPostHook = prev }
}
