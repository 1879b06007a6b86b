package slack

// SetAfterPostHook lets a test stop this App's sender between posting a
// card and recording it. Call it before the App runs and before any worker
// uses its handlers: it is not synchronised with them.
func SetAfterPostHook(a *App, f func(leadID int64)) {
	a.chat.afterPost = f
}
