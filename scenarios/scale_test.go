package scenarios

import (
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fill sets every field reachable from v to a non-zero value, allocating
// pointers and giving slices two elements, so that no field can hide.
func fill(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem())
	case reflect.Struct:
		for i := range v.NumField() {
			fill(v.Field(i))
		}
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range 2 {
			fill(v.Index(i))
		}
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
		v.SetMapIndex(reflect.ValueOf("K").Convert(v.Type().Key()), reflect.ValueOf("v").Convert(v.Type().Elem()))
	case reflect.Int, reflect.Int64:
		v.SetInt(int64(time.Second)) // also a Duration or time.Duration
	case reflect.Float64:
		v.SetFloat(12)
	case reflect.String:
		v.SetString("x")
	case reflect.Bool:
		v.SetBool(true)
	default:
		panic("fill: unhandled kind " + v.Kind().String() + "; extend the test")
	}
}

// checkScaled walks the original and the scaled copy in step; it counts
// the durations and rates it checked.
func checkScaled(t *testing.T, path string, orig, got reflect.Value, k float64, inThresholds bool, durations, rates *int) {
	t.Helper()
	switch orig.Type() {
	case durationType:
		*durations++
		if want := int64(float64(orig.Int()) / k); got.Int() != want {
			t.Errorf("%s: Duration %v not scaled: got %v, want %v", path, Duration(orig.Int()), Duration(got.Int()), Duration(want))
		}
		return
	case rateType:
		*rates++
		if want := orig.Float() * k; got.Float() != want {
			t.Errorf("%s: Rate %v not scaled: got %v, want %v", path, orig.Float(), got.Float(), want)
		}
		return
	case thresholdsType:
		inThresholds = true
		if !reflect.DeepEqual(orig.Interface(), got.Interface()) {
			t.Errorf("%s: thresholds changed by scaling", path)
		}
		return
	}
	switch orig.Kind() {
	case reflect.Pointer:
		if orig.Pointer() == got.Pointer() {
			t.Errorf("%s: pointer shared with the original, not copied", path)
		}
		checkScaled(t, path, orig.Elem(), got.Elem(), k, inThresholds, durations, rates)
	case reflect.Struct:
		for i := range orig.NumField() {
			checkScaled(t, path+"."+orig.Type().Field(i).Name, orig.Field(i), got.Field(i), k, inThresholds, durations, rates)
		}
	case reflect.Slice:
		if orig.Len() != got.Len() {
			t.Fatalf("%s: length %d, want %d", path, got.Len(), orig.Len())
		}
		if orig.Len() > 0 && orig.Pointer() == got.Pointer() {
			t.Errorf("%s: slice shared with the original, not copied", path)
		}
		for i := range orig.Len() {
			checkScaled(t, path+"["+strconv.Itoa(i)+"]", orig.Index(i), got.Index(i), k, inThresholds, durations, rates)
		}
	case reflect.Map:
		if orig.Len() > 0 && orig.Pointer() == got.Pointer() {
			t.Errorf("%s: map shared with the original, not copied", path)
		}
		if !reflect.DeepEqual(orig.Interface(), got.Interface()) {
			t.Errorf("%s: %v changed to %v", path, orig.Interface(), got.Interface())
		}
	default:
		if !reflect.DeepEqual(orig.Interface(), got.Interface()) {
			t.Errorf("%s: %v changed to %v", path, orig.Interface(), got.Interface())
		}
	}
}

// TestScaledReachesEveryField fails when a Duration or Rate anywhere in a
// Scenario escapes Scaled, or when the copy shares memory with the original.
func TestScaledReachesEveryField(t *testing.T) {
	var s Scenario
	fill(reflect.ValueOf(&s).Elem())
	before := s.Scaled(1) // an independent deep copy to compare against
	got := s.Scaled(4)
	var durations, rates int
	checkScaled(t, "Scenario", reflect.ValueOf(&s).Elem(), reflect.ValueOf(got).Elem(), 4, false, &durations, &rates)
	// With two phases and two faults each, the tree holds 104 durations and
	// 15 rates (5 per load: scenario and two phases); fewer means the walk
	// above skipped a part of the tree.
	if durations < 104 || rates < 15 {
		t.Errorf("checked %d durations and %d rates; the walk missed part of the tree", durations, rates)
	}
	if diff := cmp.Diff(before, &s); diff != "" {
		t.Errorf("Scaled modified the original:\n%s", diff)
	}
}

func TestScaledBuiltin(t *testing.T) {
	s, err := Builtin("hard-outage")
	if err != nil {
		t.Fatal(err)
	}
	k := 10.0
	c := s.Scaled(k)
	if got, want := c.TotalDuration(), s.TotalDuration()/10; got != want {
		t.Errorf("TotalDuration = %v, want %v", got, want)
	}
	if got := c.Phases[2].Load.Rate.Rate; got != 400 {
		t.Errorf("recovery rate = %v, want 400/s", got)
	}
	if got := c.Breaker.ResetTimeout; got != Duration(6*time.Second) {
		t.Errorf("reset_timeout = %v, want 6s", got)
	}
	if c.Thresholds[6].Conditions[0].Value != 70 {
		t.Errorf("thresholds must stay in scenario time: %+v", c.Thresholds[6])
	}
	if err := c.Validate(); err != nil {
		t.Errorf("scaled scenario invalid: %v", err)
	}
	for _, bad := range []float64{0, -1} {
		if diff := cmp.Diff(s, s.Scaled(bad)); diff != "" {
			t.Errorf("Scaled(%v) should be an unscaled copy:\n%s", bad, diff)
		}
	}
}

func TestTotalDuration(t *testing.T) {
	s := &Scenario{Phases: []Phase{{Duration: Duration(time.Minute)}, {Duration: Duration(90 * time.Second)}}}
	if got := s.TotalDuration(); got != 150*time.Second {
		t.Errorf("TotalDuration = %v", got)
	}
}
