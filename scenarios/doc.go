// Package scenarios defines brownout's scenario files: the YAML format users
// write to describe an incident (load, upstream behaviour, faults over a
// timeline, breaker settings, thresholds), strict decoding with positioned
// error messages, the defaults, the JSON Schema editors use, and the library
// of built-in scenarios embedded in the binary.
//
// The package is pure data: it imports no other brownout package, and the
// packages that play a scenario (sim, faults, assistant) translate a
// [Scenario] into their own configuration.
//
// Every value is decoded in scenario time. [Scenario.Scaled] produces the
// compressed copy that a run at a time scale uses.
package scenarios
