// Package faults is a fake HuggingFace inference server (the serverless API
// and text-generation-inference, TGI) that can be told to fail.
//
// When healthy it speaks the real wire protocol: the same routes, JSON and
// SSE bodies, error shapes and headers, with generated text that is
// deterministic for a prompt and seed and timing drawn from configurable
// latency distributions. A [Config] lists [Phase]s, each with its own
// timing, capacity and [FaultSpec]s; the active phase follows the clock from
// [Server.StartTimeline].
//
// # Fault selection
//
// Faults are considered only on inference routes, after the request decoded
// successfully, in list order. For each request the phase's call index i
// (counted from 0 per phase) is assigned, then for every fault considered the
// server draws exactly one number u in [0,1) from a seeded generator. The
// fault fires when every selector it sets matches
//
//	first: N  ->  i < N
//	every: N  ->  i % N == N-1
//	after: N  ->  i >= N
//
// and u < rate (rate omitted = 1). The first fault that fires wins and later
// faults are not considered (and draw nothing). Index assignment and draws
// happen under one lock, so a given seed always gives the same fault to the
// same call index, whatever the scheduling. A fault with rate_to ramps: its
// rate goes linearly from rate (0 when omitted) at the phase's start to
// rate_to at its end, read at the call's arrival, so its decisions also
// depend on when each call arrives.
//
// All durations are real time; callers compress time by scaling durations
// before calling [New].
package faults
