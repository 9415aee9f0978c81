module rollout-doctor/tools/expr-golden

go 1.19

require (
	github.com/antonmedv/expr v1.15.5
	github.com/expr-lang/expr v1.17.7
)

// run.sh unpacks both tags of github.com/expr-lang/expr here (the v1.15.5 tag still carries the old
// module path github.com/antonmedv/expr); nothing is downloaded.
replace github.com/antonmedv/expr => ./.work/v1.15.5

replace github.com/expr-lang/expr => ./.work/v1.17.7
