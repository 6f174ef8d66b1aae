package sweep

// finish aggregates a cell's runs once they are all in.
func (c *Cell) finish() {
	c.Status = CellDone
	for _, r := range c.Runs {
		switch {
		case r.Err != "":
			c.Status = CellError
		case (r.Interrupted || r.Values == nil) && c.Status == CellDone:
			c.Status = CellInterrupted
		}
	}
	if c.Status != CellDone {
		c.Stats, c.Thresholds, c.Passed = nil, nil, false
		return
	}
	vals := make([][]Value, len(c.Runs))
	for i, r := range c.Runs {
		vals[i] = r.Values
	}
	c.Stats = make([]Stat, len(MetricNames))
	for i := range MetricNames {
		c.Stats[i] = aggregate(vals, i)
	}
	c.Thresholds = nil
	c.Passed = true
	for _, r := range c.Runs {
		c.Passed = c.Passed && r.Passed
	}
	if len(c.Runs) == 0 {
		return
	}
	for vi, v := range c.Runs[0].Verdicts {
		t := ThresholdResult{Name: v.Name(), Metric: v.Threshold.Metric, Runs: len(c.Runs)}
		obs := make([][]Value, 0, len(c.Runs))
		for _, r := range c.Runs {
			if vi >= len(r.Verdicts) {
				continue
			}
			rv := r.Verdicts[vi]
			if rv.Passed {
				t.Passes++
			}
			obs = append(obs, []Value{{V: rv.Observed, Never: rv.Never}})
		}
		t.Passed = t.Passes == t.Runs
		t.Observed = aggregate(obs, 0)
		c.Thresholds = append(c.Thresholds, t)
	}
}
