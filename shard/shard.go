// Package shard splits a list of work between N CI jobs the way test
// runners do with --shard I/N: every job computes the same assignment from
// the same list, plays its own part, and a merge step combines the parts.
// There is no coordinator, so the assignment must be deterministic and
// depend only on the list.
package shard

import (
	"fmt"
	"strconv"
	"strings"
)

// Shard is one part of N, 1-based: {1, 1} is the whole.
type Shard struct {
	Index, Of int
}

// All is the whole list, unsharded.
var All = Shard{Index: 1, Of: 1}

// String writes the shard as I/N.
func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Of) }

// maxShards bounds N, far above any CI matrix, so a typo cannot ask for a
// billion empty parts.
const maxShards = 10_000

// Parse reads "I/N" with 1 ≤ I ≤ N.
func Parse(s string) (Shard, error) {
	i, n, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return Shard{}, fmt.Errorf("shard %q: want I/N, e.g. 2/4 for the second of four parts", s)
	}
	idx, err1 := strconv.Atoi(strings.TrimSpace(i))
	of, err2 := strconv.Atoi(strings.TrimSpace(n))
	switch {
	case err1 != nil || err2 != nil:
		return Shard{}, fmt.Errorf("shard %q: I and N must be whole numbers, e.g. 2/4", s)
	case of < 1 || of > maxShards:
		return Shard{}, fmt.Errorf("shard %q: N must be between 1 and %d", s, maxShards)
	case idx < 1 || idx > of:
		return Shard{}, fmt.Errorf("shard %q: I must be between 1 and N (%d)", s, of)
	}
	return Shard{Index: idx, Of: of}, nil
}

// Assign gives each of len(costs) items, in list order, the 1-based shard
// of n that plays it: items are taken longest first (equal costs in list
// order), each to the shard with the least total cost so far (ties to the
// shard with fewer items, then the lowest). With equal costs this is
// round-robin: item k goes to
// shard k mod n + 1. Every item gets exactly one shard, and shard totals
// differ by at most the largest cost.
func Assign(costs []float64, n int) []int {
	out := make([]int, len(costs))
	if n <= 1 {
		for i := range out {
			out[i] = 1
		}
		return out
	}
	order := make([]int, len(costs))
	for i := range order {
		order[i] = i
	}
	// A stable insertion sort by falling cost keeps list order for ties;
	// the lists are short (scenarios, cells).
	for i := 1; i < len(order); i++ {
		for j := i; j > 0 && costs[order[j]] > costs[order[j-1]]; j-- {
			order[j], order[j-1] = order[j-1], order[j]
		}
	}
	load := make([]float64, n)
	count := make([]int, n)
	for _, item := range order {
		best := 0
		for s := 1; s < n; s++ {
			if load[s] < load[best] || (load[s] == load[best] && count[s] < count[best]) {
				best = s
			}
		}
		load[best] += costs[item]
		count[best]++
		out[item] = best + 1
	}
	return out
}

// Select returns the indexes of the items that shard s plays, in list
// order.
func (s Shard) Select(costs []float64) []int {
	var out []int
	for i, sh := range Assign(costs, s.Of) {
		if sh == s.Index {
			out = append(out, i)
		}
	}
	return out
}
