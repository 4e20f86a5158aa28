package explain

// OrderBuckets is how many time buckets of own orders x holds for organisation orgID.
func OrderBuckets(x *Explainer, orgID int64) int {
	s := x.state(orgID)
	s.ordersMu.RLock()
	defer s.ordersMu.RUnlock()
	return len(s.orders)
}
