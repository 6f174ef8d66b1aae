// Package reports judges and pictures one recorded brownout run: it loads a
// run folder written by package recording, computes the metrics that
// scenario thresholds name (overall, per phase, with filters and sliding
// windows), evaluates the thresholds, and writes the plots (PNG, made with
// gonum.org/v1/plot), summary.json, report.md and junit.xml into the folder.
//
// Every time it reads or prints is scenario time, so a run compressed by a
// time scale reports the same figures as an uncompressed one. Percentiles
// are exact (nearest rank on the full sorted sample), so a verdict never
// depends on sampling. The metric definitions are documented in
// docs/metrics.md.
//
// The package also draws the heatmaps of a sweep ([Heatmap], [PassFailMap]),
// so that the sweep's pictures share the report's palette and fonts.
package reports
