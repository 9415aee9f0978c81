package main

// The environment Argo Rollouts gives successCondition / failureCondition, ported from
// utils/evaluate/evaluate.go (EvalCondition, asInt, asFloat, isInf, isNilFunc, defaultFunc, isNil,
// valueFromPointer); identical at v1.7.2, v1.8.4, v1.9.1 and v1.10.0-rc1 for these functions (v1.10
// only adds formatEvalError around the error, which rollout-doctor applies in src/expr/argo.ts).
// Argo Rollouts itself cannot be linked here (its dependency tree is not available offline), so the
// functions are rewritten from that file, quirks included: default() and isNil() ignore their
// argument and look at the whole result; asInt/asFloat panic on what they cannot convert.

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
)

func argoEnv(result any) map[string]any {
	return map[string]any{
		"result":  argoValueFromPointer(result),
		"asInt":   argoAsInt,
		"asFloat": argoAsFloat,
		"isNaN":   math.IsNaN,
		"isInf":   argoIsInf,
		"isNil":   func(_ any) bool { return argoIsNil(result) },
		"default": func(_ any, defaultValue any) any {
			if argoIsNil(result) {
				return defaultValue
			}
			return argoValueFromPointer(result)
		},
	}
}

func argoIsInf(f float64) bool { return math.IsInf(f, 0) }

func argoAsInt(in any) int64 {
	switch i := in.(type) {
	case float64:
		return int64(i)
	case float32:
		return int64(i)
	case int64:
		return i
	case int32:
		return int64(i)
	case int16:
		return int64(i)
	case int8:
		return int64(i)
	case int:
		return int64(i)
	case uint64:
		return int64(i)
	case uint32:
		return int64(i)
	case uint16:
		return int64(i)
	case uint8:
		return int64(i)
	case uint:
		return int64(i)
	case string:
		n, err := strconv.ParseInt(i, 10, 64)
		if err == nil {
			return n
		}
		panic(err)
	}
	panic(fmt.Sprintf("asInt() not supported on %v %v", reflect.TypeOf(in), in))
}

func argoAsFloat(in any) float64 {
	switch i := in.(type) {
	case float64:
		return i
	case float32:
		return float64(i)
	case int64:
		return float64(i)
	case int32:
		return float64(i)
	case int16:
		return float64(i)
	case int8:
		return float64(i)
	case int:
		return float64(i)
	case uint64:
		return float64(i)
	case uint32:
		return float64(i)
	case uint16:
		return float64(i)
	case uint8:
		return float64(i)
	case uint:
		return float64(i)
	case string:
		f, err := strconv.ParseFloat(i, 64)
		if err == nil {
			return f
		}
		panic(err)
	}
	panic(fmt.Sprintf("asFloat() not supported on %v %v", reflect.TypeOf(in), in))
}

func argoIsNil(in any) bool {
	if in == nil {
		return true
	}
	switch reflect.TypeOf(in).Kind() {
	case reflect.Ptr, reflect.Map, reflect.Array, reflect.Chan, reflect.Slice:
		return reflect.ValueOf(in).IsNil()
	}
	return false
}

func argoValueFromPointer(in any) any {
	if argoIsNil(in) {
		return nil
	}
	if reflect.TypeOf(in).Kind() != reflect.Ptr {
		return in
	}
	return reflect.ValueOf(in).Elem().Interface()
}
