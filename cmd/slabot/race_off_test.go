//go:build !race

package main

// demoTestSpeed is how much faster than its normal pace the tests play the
// demo when they are built without the race detector (see
// race_on_test.go for with it). The story's steps and its agreement's
// deadlines both run at that speed, in real time: the faster, the less a
// step may be held up on a busy machine (the two demos run beside the
// package's other tests) before a deadline overtakes it and the story
// goes another way.
const demoTestSpeed = 5
