package pgpool

// RemoveAbandoned is removeAbandoned, for tests.
var RemoveAbandoned = removeAbandoned
