package samples

// tracker records, while the archive is written, what the IAM exports and
// the facts must agree with: each credential's last use, and what each
// principal did. Every task has its own; they are merged in task order.
type tracker struct {
	last   []lastUse          // by credential index
	used   []map[string]int64 // by principal index: IAM action → successful calls
	events []int64            // by principal index: events of any outcome
}

type lastUse struct {
	t       int64
	region  string
	service string
}

func newTracker(w *world) *tracker {
	return &tracker{
		last:   make([]lastUse, len(w.creds)),
		used:   make([]map[string]int64, len(w.principals)),
		events: make([]int64, len(w.principals)),
	}
}

func (tr *tracker) use(c *credential, t int64, region, service string) {
	if c == nil {
		return
	}
	if l := &tr.last[c.index]; t > l.t || t == l.t && region < l.region {
		*l = lastUse{t, region, service}
	}
}

// act counts an event of p; a successful call adds its action to what p used.
func (tr *tracker) act(p *principal, action string, ok bool) {
	if p == nil {
		return
	}
	tr.events[p.index]++
	if !ok || action == "" {
		return
	}
	m := tr.used[p.index]
	if m == nil {
		m = map[string]int64{}
		tr.used[p.index] = m
	}
	m[action]++
}

func (tr *tracker) merge(o *tracker) {
	for i, l := range o.last {
		if l.t != 0 {
			tr.use(&credential{index: i}, l.t, l.region, l.service)
		}
	}
	for i, m := range o.used {
		for a, n := range m {
			if tr.used[i] == nil {
				tr.used[i] = map[string]int64{}
			}
			tr.used[i][a] += n
		}
	}
	for i, n := range o.events {
		tr.events[i] += n
	}
}
