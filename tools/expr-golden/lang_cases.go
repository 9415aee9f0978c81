package main

// Expressions written for rollout-doctor to cover what the issue names and where v1.15.5 and v1.17.7
// differ (each is run against both libraries; the answer is the library's). They use the fuzz
// environment (envs.go) or none.

var languageCases = []string{
	// predicates with and without braces, pointers, closures' variables
	"all(array, # < 10)", "all(array, {# < 10})", "any(array, # > 4)", "none(array, # > 5)", "one(array, # == 3)",
	"filter(array, # % 2 == 0)", "map(array, # * 2)", "map(array, #index)", "count(array, # > 2)", "count(array)",
	"count([true, false, true])", "sum(array)", "sum(array, # * 2)", "find(array, # > 2)", "findIndex(array, # > 2)",
	"findLast(array, # < 3)", "findLastIndex(array, # < 3)", "find(array, # > 9)", "findIndex(array, # > 9)",
	"reduce(array, #acc + #)", "reduce(array, #acc + #, 10)", "reduce([], #acc)", "groupBy(array, # % 2)",
	"sortBy(array, -#)", "sortBy(array, #, 'desc')", "filter(array, # > 1)[0]", "filter(array, # > 9)[0]",
	"filter(array, # > 1)[-1]", "first(filter(array, # > 9))", "last(filter(array, # > 1))",
	"map(filter(array, # > 2), # * 10)", "map(array, findLast(array, # == 1))", "[findLast(array, # > 2), 1]",
	"1 + findLast(array, # > 2)", "findLast(array, # > 2) + 1", "len(filter(array, # > 2))",
	"all(array, .x)", "map([{x: 1}, {x: 2}], .x)", "all(array, # > 0) && all(array, # < 9)",
	// let, sequences, comments, if
	"let x = 2; x * i", "let x = 1; let y = x + 1; y", "let i = 1; i", "let len = 1; len", "let x = 1; let x = 2; x",
	"1; 2", "let x = 1; x; x + 1", "if ok { 1 } else { 2 }", "if i > 1 { 'a' } else if i > 0 { 'b' } else { 'c' }",
	"1 // comment", "/* a */ 1 /* b */ + 2", "1 /* unclosed", "// only a comment",
	// matches: RE2 syntax and errors
	`"abc" matches "b"`, `"abc" matches "^b"`, `"ABC" matches "(?i)abc"`, `"a1" matches "\\d"`, `"ab" matches "a(?=b)"`,
	`"ab" matches "("`, `"ab" matches "[a-"`, `"aaa" matches "a{2,}"`, `"x" matches ("[" + "x]")`, `"x" not matches "y"`,
	`nil matches "a"`, `"a" matches nil`, `1 matches "1"`, `"é" matches "^.$"`, `"\n" matches "."`, `"a.b" matches "a\\.b"`,
	// pipes, optional chaining, coalescing, ternary
	"array | filter(# > 2) | map(# * 2) | sum()", "array | len()", "'a,b' | split(',')", "array | reduce(#acc + #, 0)",
	"nil?.a", "nil?.a.b", "{a: nil}?.a?.b", "{a: {b: 1}}?.a?.b", "array?.[0]", "nil?.[0]", "{a: 1}?.b ?? 2",
	"nil ?? 1", "nil ?? nil", "1 ?? 2", "i > 0 ? 'pos' : 'neg'", "ok ?: 'no'", "i == 1 ? nil : 1", "1 ?? 2 + 3",
	// slices, ranges, in, string operators
	"array[1:3]", "array[:2]", "array[3:]", "array[-2:]", "array[:-1]", "array[4:2]", "'hello'[1:3]", "'héllo'[1:3]",
	"'abc'[0]", "'abc'[-1]", "array[10]", "array[-10]", "'abc'[5]", "1..3", "3..1", "i..3", "1..1.5", "f64..2",
	"2 in array", "9 in array", "'a' in {a: 1}", "1 in {a: 1}", "i in 1..5", "nil in array", "nil in ['', 'a']",
	"'a' in 'abc'", "'ab' contains 'b'", "'ab' startsWith 'a'", "'ab' endsWith 'a'", "nil contains 'a'",
	"'a' contains nil", "1 contains 'a'", "'ab' not contains 'c'", "'ab' not startsWith 'b'",
	// numbers: int vs float, overflow, division, modulo, power
	"9223372036854775807 + 1", "-9223372036854775807 - 2", "9223372036854775807 * 2", "i * 9223372036854775807 * 2",
	"7 / 2", "7 / 2.0", "-7 / 2", "1 / 0", "-1 / 0", "0 / 0 == 0 / 0", "i / 0", "7 % 3", "-7 % 3", "7 % -3",
	"i % 0", "7.5 % 2", "f64 % 1", "2 ** 10", "2 ** -1", "(-8) ** (1/3)", "2 ^ 3 ^ 2", "-2 ** 2", "i64 + 1",
	"i32 * 2", "i64 / i32", "f32 + f64", "f32 * 2", "1e308 * 10", "-1e308 * 10", "1 == 1.0", "i == 1.0",
	"i64 == 1", "i32 == i64", "f32 == 0.5", "0.1 + 0.2", "0.1 + 0.2 == 0.3", "1_000_000", "0x1F", "0X1F", "0o17",
	"0b101", "017", "1e3", "1E3", ".5", "5.", "9223372036854775808", "1e400", "0x", "1..2..3",
	"int(7.9)", "int(-7.9)", "int('42')", "int(' 42')", "int('4.2')", "int(nil)", "int(true)", "float('1e3')",
	"float('inf')", "float('x')", "float(i)", "abs(-i)", "abs(-0.0)", "abs(i64 - 5)", "ceil(1.2)", "floor(-1.2)",
	"round(2.5)", "round(-2.5)", "round(i)", "string(1.0)", "string(1e21)", "string(1e-7)", "string(123456789.0)",
	"string(0.000001)", "string(array)", "string({a: 1, b: [2]})", "string(nil)", "string(f32)",
	// builtins by version
	"max(1, 2.5)", "max([1, 2])", "max(array)", "min(array, 0)", "max()", "max('a')", "max(1, 'a')", "mean(array)",
	"mean([])", "mean(1, 2)", "median(array)", "median([1, 2])", "sum([])", "sum([1, 2.5])", "sum(['a', 'b'])",
	"sum(1..3)", "len('héllo')", "len(nil)", "len(1)", "len({a: 1})", "type(1)", "type(f32)", "type(nil)",
	"type([])", "type({})", "type(add)", "upper('abc')", "lower('ÀB')", "trim('  a  ')", "trim('xax', 'x')",
	"trimPrefix('ab', 'a')", "trimSuffix('ab', 'b')", "trimPrefix(' a')", "split('a,b,c', ',')", "split('a,b,c', ',', 2)",
	"split('abc', '')", "split('', ',')", "splitAfter('a,b', ',')", "replace('aaa', 'a', 'b')", "replace('aaa', 'a', 'b', 2)",
	"replace('ab', '', '-')", "repeat('ab', 3)", "repeat('a', -1)", "join(['a', 'b'], '-')", "join(['a', 1])",
	"indexOf('héllo', 'l')", "lastIndexOf('hello', 'l')", "hasPrefix('ab', 'a')", "hasSuffix('ab', 'b')",
	"toJSON({b: 1, a: [1.5, 'x', nil, true]})", "toJSON(1e21)", "toJSON(0.000001)", "toJSON('<a & b>')", "toJSON(0/0)",
	"fromJSON('{\"a\": [1, 2.5, null]}')", "fromJSON('[1,')", "fromJSON('x')", "fromJSON('1 2')",
	"toBase64('hello')", "fromBase64('aGVsbG8=')", "fromBase64('!!')", "first(array)", "first([])", "last(array)",
	"first('abc')", "get(array, 1)", "get(array, 10)", "get({a: 1}, 'a')", "get({a: 1}, 'b')", "get(nil, 1)",
	"take(array, 2)", "take(array, 10)", "take(array, -1)", "keys({a: 1})", "values({a: 1})", "toPairs({a: 1})",
	"fromPairs([['a', 1]])", "fromPairs([[[1], 1]])", "reverse(array)", "uniq([1, 1, 2])", "concat([1], [2])",
	"concat([], [])", "flatten([[1, [2]], 3])", "sort([3, 1, 2])", "sort([3, 1, 2], 'desc')", "sort(['b', 'a'])",
	"sort([1, 'a'])", "sort(array, 'up')", "sortBy([{a: 2}, {a: 1}], 'a')", "bitand(6, 3)", "bitor(6, 3)",
	"bitxor(6, 3)", "bitnand(6, 3)", "bitnot(6)", "bitshl(1, 3)", "bitshr(-8, 1)", "bitushr(-8, 60)", "bitshl(1, -1)",
	"abs('a')", "ceil('a')", "upper(nil)", "upper(1)", "lower()", "split('a')", "now()",
	// types and comparisons
	"'a' < 'b'", "'a' < 1", "nil == nil", "nil != 1", "[1, 2] == [1, 2]", "[1, 2] == array[:2]", "array == array",
	"{a: 1} == {a: 1}", "1 < 2 < 3", "3 > 2 > 1", "1 < 2 <= 2", "true == 1", "ok && 1", "!i", "-ok", "+'a'",
	"not ok", "ok and not ok", "ok or i", "i > 0 and i < 2", "{a: 1, a: 2}.a", "{1: 'one'}['1']", "{(1 + 1): 2}",
	"[1, 2,][1]", "add(1, 2,)", "greet('x')", "greet(1)", "half(1)", "half(i)", "add(1)", "add(1, 2, 3)",
	"score(1, 2, 3)", "score(1)", "score()", "div(1, 0)", "add(i64, 1)", "half(f32)", "add", "add(nil, 1)",
	"$env.i", "$env['i']", "$env.nope", "$env?.nope", "'i' in $env", "get($env, 'i')", "::len([1])",
	"`raw\\n`", "\"\\u{1F600}\"", "'\\x41'", "'\\101'", "'\\q'", "\"a\nb\"", "'it''s'",
}
