package scenarios

import (
	"math"
	"reflect"
)

// Scaled returns a deep copy of s compressed by the factor k: every
// [Duration] anywhere in the scenario is divided by k and every [Rate]
// multiplied by k, so that a run at time scale k plays the same incident k
// times faster. Thresholds are copied unchanged (they are judged in
// scenario time). A k that is not a positive finite number returns an
// unscaled copy.
//
// The copy walks the value by reflection, so a Duration or Rate field added
// later is scaled without anyone remembering to.
func (s *Scenario) Scaled(k float64) *Scenario {
	if !(k > 0) || math.IsInf(k, 0) {
		k = 1
	}
	out := reflect.New(reflect.TypeFor[Scenario]()).Elem()
	scaleCopy(out, reflect.ValueOf(s).Elem(), k)
	return out.Addr().Interface().(*Scenario)
}

// scaleCopy copies src into dst, scaling durations and rates by k; the
// thresholds are copied as they are (k = 1).
func scaleCopy(dst, src reflect.Value, k float64) {
	switch src.Type() {
	case durationType:
		dst.SetInt(int64(math.Round(float64(src.Int()) / k)))
		return
	case rateType:
		dst.SetFloat(src.Float() * k)
		return
	case thresholdsType:
		k = 1
	}
	switch src.Kind() {
	case reflect.Pointer:
		if src.IsNil() {
			return
		}
		p := reflect.New(src.Type().Elem())
		scaleCopy(p.Elem(), src.Elem(), k)
		dst.Set(p)
	case reflect.Struct:
		for i := range src.NumField() {
			scaleCopy(dst.Field(i), src.Field(i), k)
		}
	case reflect.Slice:
		if src.IsNil() {
			return
		}
		s := reflect.MakeSlice(src.Type(), src.Len(), src.Len())
		for i := range src.Len() {
			scaleCopy(s.Index(i), src.Index(i), k)
		}
		dst.Set(s)
	case reflect.Map: // a target's env: strings only, nothing to scale
		if !src.IsNil() {
			m := reflect.MakeMapWithSize(src.Type(), src.Len())
			for it := src.MapRange(); it.Next(); {
				m.SetMapIndex(it.Key(), it.Value())
			}
			dst.Set(m)
		}
	default:
		dst.Set(src)
	}
}
