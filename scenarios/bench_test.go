package scenarios

import "testing"

func BenchmarkParseBuiltin(b *testing.B) {
	src, err := BuiltinSource("hard-outage")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		if _, err := Parse("hard-outage.yaml", src); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshal(b *testing.B) {
	s, err := Builtin("hard-outage")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Marshal(s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkScaled(b *testing.B) {
	s, err := Builtin("hard-outage")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		_ = s.Scaled(10)
	}
}
