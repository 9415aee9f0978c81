package main

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
)

// The typed encoding of a Go value, shared with test/expr/golden.ts: JSON that keeps what plain JSON
// loses (the Go type of every number, slice and map, typed nils, NaN and the infinities).
//
//	nil                  -> null
//	bool                 -> true / false
//	string               -> "text"
//	a number of type T   -> {"T": "decimal text"}            e.g. {"int": "3"}, {"float64": "NaN"}
//	a slice or array     -> {"[]T": [items...]}  (a nil slice: {"[]T": null})
//	a map                -> {"map[K]V": [[key, value], ...]} sorted by the key's encoding (nil map: null)
//
// Values of other Go types (funcs, structs, pointers, time) are not encodable: errNotEncodable.
var errNotEncodable = fmt.Errorf("not encodable")

func encode(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	return encodeValue(reflect.ValueOf(v))
}

func encodeValue(rv reflect.Value) (any, error) {
	t := rv.Type()
	if t.PkgPath() != "" {
		return nil, fmt.Errorf("%w: %s", errNotEncodable, t)
	}
	switch rv.Kind() {
	case reflect.Interface:
		if rv.IsNil() {
			return nil, nil
		}
		return encodeValue(rv.Elem())
	case reflect.Bool:
		return rv.Bool(), nil
	case reflect.String:
		return rv.String(), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return map[string]any{t.String(): strconv.FormatInt(rv.Int(), 10)}, nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{t.String(): strconv.FormatUint(rv.Uint(), 10)}, nil
	case reflect.Float32, reflect.Float64:
		return map[string]any{t.String(): formatFloat(rv.Float(), t.Bits())}, nil
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			return map[string]any{t.String(): nil}, nil
		}
		items := make([]any, rv.Len())
		for i := range items {
			item, err := encodeValue(rv.Index(i))
			if err != nil {
				return nil, err
			}
			items[i] = item
		}
		return map[string]any{t.String(): items}, nil
	case reflect.Map:
		if rv.IsNil() {
			return map[string]any{t.String(): nil}, nil
		}
		type pair struct {
			key  string
			item []any
		}
		pairs := make([]pair, 0, rv.Len())
		iter := rv.MapRange()
		for iter.Next() {
			k, err := encodeValue(iter.Key())
			if err != nil {
				return nil, err
			}
			v, err := encodeValue(iter.Value())
			if err != nil {
				return nil, err
			}
			text, _ := json.Marshal(k)
			pairs = append(pairs, pair{string(text), []any{k, v}})
		}
		sort.Slice(pairs, func(i, j int) bool { return pairs[i].key < pairs[j].key })
		items := make([]any, len(pairs))
		for i, p := range pairs {
			items[i] = p.item
		}
		return map[string]any{t.String(): items}, nil
	}
	return nil, fmt.Errorf("%w: %s", errNotEncodable, t)
}

func formatFloat(f float64, bits int) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "+Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(f, 'g', -1, bits)
}

// basicTypes: the Go types a test literal may name (extract.go).
var basicTypes = map[string]reflect.Type{
	"bool": reflect.TypeOf(false), "string": reflect.TypeOf(""),
	"int": reflect.TypeOf(0), "int8": reflect.TypeOf(int8(0)), "int16": reflect.TypeOf(int16(0)),
	"int32": reflect.TypeOf(int32(0)), "int64": reflect.TypeOf(int64(0)),
	"uint": reflect.TypeOf(uint(0)), "uint8": reflect.TypeOf(uint8(0)), "uint16": reflect.TypeOf(uint16(0)),
	"uint32": reflect.TypeOf(uint32(0)), "uint64": reflect.TypeOf(uint64(0)),
	"float32": reflect.TypeOf(float32(0)), "float64": reflect.TypeOf(float64(0)),
	"interface {}": reflect.TypeOf(new(any)).Elem(),
}
