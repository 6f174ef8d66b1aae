package scenarios

import "reflect"

// fieldValue is one field of a struct under its YAML key.
type fieldValue struct {
	name  string
	value any
	zero  bool
}

// fieldValues lists the fields of the struct p points to, in declaration
// order, under their YAML keys.
func fieldValues(p any) []fieldValue {
	rv := reflect.ValueOf(p).Elem()
	names, idx := fieldInfo(rv.Type())
	out := make([]fieldValue, 0, len(names))
	for _, n := range names {
		f := rv.Field(idx[n])
		out = append(out, fieldValue{name: n, value: f.Interface(), zero: f.IsZero()})
	}
	return out
}
