// Package tests holds the end-to-end tests of the function as FC runs it:
// the binary that build.sh packs into dist/function.zip, started as a child
// process against the FC runtime-API emulator, with the ECS and EventBridge
// emulators behind it. There is no code here besides the tests.
package tests
