package teams

// ChannelsPinned is closed once Run has pinned the policy's channel names
// (the check it makes before anything else), so that a test can tell the
// channels it adds afterwards from those Run saw.
func (a *App) ChannelsPinned() <-chan struct{} { return a.pinned }
