package queries

// WithoutUsageAggregate returns p set to fold the window's calls from
// events rather than read the per-day usage aggregate: the full computation.
func WithoutUsageAggregate(p Params) Params {
	p.noAggregate = true
	return p
}
