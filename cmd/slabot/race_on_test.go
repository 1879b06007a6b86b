//go:build race

package main

// demoTestSpeed is how much faster than its normal pace the tests play the
// demo under the race detector, which makes the bot several times slower
// (see race_off_test.go).
const demoTestSpeed = 2
