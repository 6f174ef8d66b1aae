// Package recording defines the on-disk form of one brownout run, so that
// the run (package sim) and its reports (package reports) agree on one
// versioned format and a run can be re-rendered or re-judged later.
//
// A run folder holds:
//
//	run.json          Header: format version, scenario, settings, phases, counts
//	requests.jsonl    one Request per load request, in completion order
//	transitions.jsonl one Transition per breaker state change, in time order
//	upstream.jsonl    one UpstreamCall per call the fake server received
//	results.bin       vegeta's own gob encoding of every result, so that
//	                  `vegeta report` and `vegeta plot` work on it unchanged
//	run.lock          the file a writing run holds an OS lock on, so two
//	                  runs never write into one folder
//
// A Writer flushes every DefaultFlushInterval and when asked (sim flushes
// at phase ends), so a killed run keeps nearly everything; run.json says
// complete only once the run has finished, with the record counts a
// reader compares the logs against. Requests carry their intended send
// time (intended_ns) when the header says intended_times; older
// recordings lack both and still load. In a run with several assistant
// replicas every request, upstream call and transition carries its
// replica (from 1, as in the breaker names NAME/rK); the field is absent
// with one replica and in older recordings, and OfReplica reads absent as
// replica 1.
//
// Every time in the JSON Lines files is scenario time: the offset from the
// start of the run multiplied by the time scale, so a run compressed 40
// times reads the same as an uncompressed one. Times and durations are
// integer nanoseconds (Go's time.Duration encoding), named with an _ns suffix.
// One field is not in scenario time: a request's real_latency_ns is its
// latency as measured at the compressed speed, kept next to latency_ns so
// that the time-compression correction can be checked.
package recording
