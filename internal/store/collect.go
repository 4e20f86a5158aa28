package store

import "context"

// Scanner is what a row scanner reads from: *sql.Row and *sql.Rows.
type Scanner interface{ Scan(dest ...any) error }

// Collect runs query on q and returns every row read by scan, in order. It closes the
// rows; an error names none of the arguments.
func Collect[T any](ctx context.Context, q Querier, scan func(Scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
