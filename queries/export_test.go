package queries

// WithoutUsageAggregate returns p set to fold the window's calls from
// events rather than read the per-day usage aggregate: the full computation.
func WithoutUsageAggregate(p Params) Params {
	p.noAggregate = true
	return p
}

// SetTimelinePageRows sets how many rows a timeline page holds and returns
// the function that restores it.
func SetTimelinePageRows(n int64) func() {
	old := timelinePageRows
	timelinePageRows = n
	return func() { timelinePageRows = old }
}
