package main

import "math"

// Conditions in Argo Rollouts' environment (argo.go), crossed with the results the providers hand
// to them: a Prometheus vector is []float64, a scalar float64 (metricproviders/prometheus), a web
// metric's JSON value is whatever encoding/json decodes, a text body a string (metricproviders/webmetric).
// The conditions come from utils/evaluate/evaluate_test.go, the providers' tests, the runbook's
// templates and rollout-doctor's own condition tests.

var argoVectorResults = []any{
	[]float64{0.0123}, []float64{0.2}, []float64{}, []float64{math.NaN()}, []float64{1, 2, 3},
	[]float64{math.Inf(1)}, []float64{math.Inf(-1)}, []float64{2, 2}, []float64{0.07}, []float64{1.9},
}

var argoScalarResults = []any{float64(5), float64(2), math.NaN(), float64(0)}

var argoJSONResults = []any{
	map[string]any{"status": "connected"},
	map[string]any{"data": map[string]any{"errorRate": 0.01}},
	map[string]any{"a": 1.0, "b": 2.0},
	map[string]any{"items": []any{map[string]any{"ok": true}, map[string]any{"ok": false}}},
	map[string]any{"a-b": 1.0},
	map[string]any{"service_apdex": map[string]any{"label": nil, "values": map[string]any{"values": []any{2.0, 2.0}}}},
	map[string]any{"count": 3.0, "status": "x"},
	[]any{1.0, "2", true, nil},
	nil, true, false, 3.0,
}

var argoTextResults = []any{"ok", "degraded", "1", "1.1", "NaN", "NotANum", "", "Inf"}

var argoVectorConditions = []string{
	"result[0] < 0.05", "result[0] >= 0.05", "result[0] >= 1", "result[-1] == 3", "result[1] > result[0]",
	"result[0] == result[0]", "result[0] != result[0]", "isNaN(result[0])", "isInf(result[0])",
	"result[2] < 1", "len(result) == 0 || result[0] < 0.05", "len(result) > 0 && result[0] < 0.05",
	"len(result) > 0 ? result[0] < 1 : true", "default(result[0], 0) < 0.05", "isNil(result)", "isNil(1)",
	"result < 0.05", "isNaN(result)", `result[0] == "x"`, "result[0] % 2 == 0", "result.value > 1",
	"2 in result", "3 not in result", "all(result, {# < 0.05})", "all(result, # < 0.05)", "any(result, {# > 0.05})",
	"count(result, {# > 1}) == 1", "len(filter(result, {# > 1})) == 2", "max(result) < 3", "sum(result) == 3",
	"mean(result) > 1", "median(result) > 1", "min(result) >= 0", "len(result[1:]) == 2", "asFloat(result[0]) == 1.5",
	"asInt(result[0]) == 1", "result[0] < 0.05 // the error ratio", "/* p99 */ result[0] < 0.5",
	"let r = result[0]; r < 0.05 || isNaN(r)", "result | all(# < 1)", "first(result) < 1", "last(result) > 0",
	"result?.[0] < 0.05", "(result[0] ?? 0) < 0.05", "none(result, # > 0.1)", "one(result, # > 1)",
	"filter(result, # > 1) | len() > 0", "map(result, # * 100)[0] < 5", "findIndex(result, # > 1) >= 0",
	"find(result, # > 1) == 2", "result[0:1] == [0.0123]", "result == [0.0123]", "float(result[0]) < 0.05",
	"int(result[0]) == 0", "string(result[0]) == \"0.0123\"", "abs(result[0]) < 1", "round(result[0]) == 0",
	"ceil(result[0]) == 1", "floor(result[0]) == 0", "result[0] < 5e-2", "result[0] * 100 < 5", "result[0] / 0 > 1",
	"sort(result)[0] >= 0", "reduce(result, #acc + #, 0) > 1", "result[0] ** 2 < 1", "result[0] < 0.05 and result[0] >= 0",
	"not (result[0] > 0.05)", "!isNaN(result[0]) && result[0] < 0.05", "isNaN(result[0]) || result[0] < 0.05",
	"result[0] < 1 ? true : false", "[0.0123] == result", "result != nil", "result == nil", "uniq(result) == result",
	"take(result, 1)[0] < 1", "keys(result)", "toJSON(result) != \"\"", "result[0] in 0..1",
}

var argoScalarConditions = []string{
	"result > 1", "result * 2 - 1 == 9", "result > 1 and not (result > 3) or false", "result ? true : false",
	"result && true", "isNaN(result)", "isInf(result)", "result == result", "result < 0.05", "(result ?? 0) == 2",
	"asInt(result) == 5", "asFloat(result) == 5.0", "result % 2 == 0", "int(result) % 2 == 0", "result in [5, 2]",
	"result in [5.0, 2.0]", "result / 0 > 1", "isInf(result / 0)", "isNaN(0.0 / 0)", "result | abs() > 1",
	"result > 1 ? result < 10 : false", "default(result, 0) == 5", "isNil(result)", "string(result) == \"5\"",
	"result == 5", "result == 5.0", "result >= 1e0", "-result < 0", "result ^ 2 == 25", "result..10",
}

var argoJSONConditions = []string{
	`result.status == "connected"`, "result.data.errorRate < 0.05", "result.missing == nil",
	"result.missing.deeper == 1", "result.missing?.deeper == nil", `result.count == "3"`, "result.status < 1",
	"result.items[0].ok == true", `result["a-b"] == 1`, "all(result.service_apdex.values.values, {# > 1})",
	"all(result.items, {.ok})", "all(result.items, .ok)", "any(result.items, .ok)", "len(result) == 2",
	"len(result) == 1", "isNil(result)", "default(result, 0) == 0", "result == true", "result == false",
	"result.Name() == 'hi'", `result.status matches "^conn"`, `result.status contains "nect"`,
	`result.status startsWith "con" and result.status endsWith "ted"`, `result?.status ?? "none"`,
	"result.count > 2", "result.count + 1 == 4", `"status" in result`, `"nope" in result`, "keys(result)",
	"len(keys(result)) > 0", "result.data?.errorRate ?? 1 < 0.05", "result[0] == 1", "result[1] == \"2\"",
	"count(result, # == nil)", "result.a + result.b == 3", "result.a * 2", "result == nil", "result != nil",
	"type(result)", "toJSON(result)", "result.items | map(.ok) | all(#)", "let s = result.status; s == \"x\"",
	"result.status == 'x' ? 1 : 0", "upper(result.status)", "result > 1",
}

var argoTextConditions = []string{
	`result == "ok"`, "result == 1", "asInt(result) == 1", "asFloat(result) >= 1.1", "asFloat(result) == 1.1",
	`asFloat(result) == "1.1"`, "isNaN(asFloat(result))", "result.status == \"ok\"", `result matches "^o"`,
	`result matches "("`, `result contains "deg"`, "len(result) > 0", `lower(result) == "ok"`, "int(result) == 1",
	"float(result) == 1.1", "isInf(asFloat(result))", `result startsWith "1"`, `trim(result) == result`,
	`split(result, ".")[0] == "1"`, `result in ["ok", "fine"]`, "result[0] == 111", "result[1:] == \"k\"",
	"asInt(result) == 1.1",
}

var argoBareConditions = []string{
	"true", "false", "a == true", "1", "invalidVariable", "true || foo > 1", "result >", `"abc`, "foo(result)",
	"isNaN(result, 1)", "result @ 1", "nil == nil", "1 == 1.0", "0x10 + 0o10 + 0b10 + 1_000 == 1026",
	"1e-3 < 0.002", `"a" + "b" == "ab"`, `'it\'s' == "it's"`, "`a\\b` == \"a\\\\b\"", `"abc" < "abd"`,
	"true || false && false", "!false == true", "-2 ** 2 == -4", "2 ** 3 ** 2 == 512", "2 ^ 10 == 1024",
	"1 + 2 * 3 == 7", "(1 + 2) * 3 == 9", "7 % 3 == 1", "1 % 0 == 0", "len(1..5) == 5", "1 < 2 < 3",
	"if true { 1 } else { 2 }", "let x = 1; let y = 2; x + y == 3", "let x = 1; x == 1", "[1, 2, 3] | sum() == 6",
	"9223372036854775807 + 1 < 0", "7 / 2 == 3.5", "-7 % 3", "2 ** -1", "1 / 3", "'a' < 'b'", "\"\\u00e9\" == \"é\"",
	"\"\\u{1F600}\" != \"\"", "::len([1])", "[1, 2,][1] == 2", "{a: 1}.a == 1", "{\"a\": 1, b: 2}.b", "len({a: 1, b: 2})",
	"constructor.constructor(\"x\")()", "result.constructor == nil", "result[\"__proto__\"] == nil",
}

type argoCase struct {
	conditions []string
	results    []any
}

func argoCandidates() []candidate {
	cases := []argoCase{
		{argoVectorConditions, argoVectorResults},
		{argoScalarConditions, argoScalarResults},
		{argoJSONConditions, argoJSONResults},
		{argoTextConditions, argoTextResults},
		{argoBareConditions, []any{true, map[string]any{}, []float64{1}}},
	}
	var out []candidate
	for _, c := range cases {
		for _, result := range c.results {
			for _, condition := range c.conditions {
				out = append(out, candidate{expr: condition, source: "tools/expr-golden/argo_cases.go", argo: result, isArgo: true})
			}
		}
	}
	return out
}
