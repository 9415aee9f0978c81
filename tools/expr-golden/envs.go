package main

import "reflect"

// The environments the rows run in. Each mirrors a test's environment with its plain-data members;
// the members that are Go-only (structs and their methods, pointers, funcs outside the list below,
// time values) are named so that rows using them are excluded with that reason.

// builtinEnvironment: builtin/builtin_test.go TestBuiltin (both tags) without ArrayOfFoo ([]mock.Foo,
// a struct) and PtrArrayWithNil (a pointer to a slice).
func builtinEnvironment() map[string]any {
	return map[string]any{
		"ArrayOfString": []string{"foo", "bar", "baz"},
		"ArrayOfInt":    []int{1, 2, 3},
		"ArrayOfAny":    []any{1, "2", true},
	}
}

// mockEnvironment: the data members of test/mock.Env as expr_test.go TestExpr fills them, as a map
// (Argo Rollouts' environment is a map too). Struct, pointer, func, method and time members are Go-only.
func mockEnvironment() (map[string]any, map[string]bool) {
	env := map[string]any{
		"Ambiguous":     "",
		"Any":           nil,
		"Bool":          true,
		"Float":         float64(0),
		"Int64":         int64(0),
		"Int32":         int32(0),
		"Int":           0,
		"One":           1,
		"Two":           2,
		"Uint32":        uint32(0),
		"Uint64":        uint64(0),
		"Float32":       float32(0),
		"Float64":       float64(0),
		"String":        "string",
		"ArrayOfAny":    []any(nil),
		"ArrayOfInt":    []int{1, 2, 3, 4, 5},
		"ArrayOfString": []string(nil),
		"MapOfAny":      map[string]any(nil),
		"MapIntAny":     map[int]string(nil),
		"NilAny":        nil,
		"NilSlice":      []any(nil),
	}
	goOnly := map[string]bool{}
	for _, name := range []string{
		"Embed", "EmbedPointerEmbedInt", "EmbedString", "EmbedMethod", "BoolPtr", "FloatPtr", "IntPtr", "IntPtrPtr", "StringPtr",
		"Foo", "Abstract", "ArrayOfFoo", "MapOfFoo", "FuncParam", "FuncParamAny", "FuncTooManyReturns", "FuncNamed",
		"NilInt", "NilFn", "NilStruct", "Variadic", "Fast", "Time", "TimePlusDay", "Duration",
		"FuncFoo", "Func", "FuncTyped", "FuncInt", "FuncUint", "FuncInt8", "FuncInt16", "FuncInt32", "FuncInt64",
		"FuncUint8", "FuncUint16", "FuncUint32", "FuncUint64", "TimeEqualString", "GetInt", "Add", "StringerStringEqual",
		"StringerStringerEqual", "StringerAnyEqual", "Foos", "Sum", "AnyMethod", "Method", "Inc", "Values",
	} {
		goOnly[name] = true
	}
	return env, goOnly
}

// The funcs of test/fuzz/fuzz_env.go; the golden test implements the same five with the same Go
// signatures (test/expr/golden.ts).
func fuzzAdd(a, b int) int         { return a + b }
func fuzzDiv(a, b int) int         { return a / b }
func fuzzHalf(a float64) float64   { return a / 2 }
func fuzzGreet(name string) string { return "Hello, " + name }
func fuzzScore(a int, x ...int) int {
	s := a
	for _, n := range x {
		s += n
	}
	return s
}

var funcNames = map[uintptr]string{
	reflect.ValueOf(fuzzAdd).Pointer():   "add",
	reflect.ValueOf(fuzzDiv).Pointer():   "div",
	reflect.ValueOf(fuzzHalf).Pointer():  "half",
	reflect.ValueOf(fuzzGreet).Pointer(): "greet",
	reflect.ValueOf(fuzzScore).Pointer(): "score",
}

// fuzzEnvironment: test/fuzz/fuzz_env.go NewEnv (identical at both tags) without list ([]Foo) and
// foo (Foo, a struct with methods); the fn Function option is not passed (a Go-only option).
func fuzzEnvironment() (map[string]any, map[string]bool) {
	return map[string]any{
			"ok":    true,
			"f64":   .5,
			"f32":   float32(.5),
			"i":     1,
			"i64":   int64(1),
			"i32":   int32(1),
			"array": []int{1, 2, 3, 4, 5},
			"add":   fuzzAdd,
			"div":   fuzzDiv,
			"half":  fuzzHalf,
			"score": fuzzScore,
			"greet": fuzzGreet,
		}, map[string]bool{
			"list": true, "foo": true, "fn": true,
		}
}
