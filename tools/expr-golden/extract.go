package main

// Extraction of (expression, environment) pairs from the library's own test files.
//
// An expression is taken where a test hands a literal to the library: the first string field of a
// table row (`{input: "...", want: ...}`, `{"...", want}`) and the first argument of expr.Compile,
// expr.Eval, parser.Parse and checker.ParseCheck calls. The environment of a test function is its
// first `map[string]any{...}` literal, keeping the members that are plain data (numbers, strings,
// bools, nil, slices and maps of them); the others (funcs, structs, pointers, time values) are
// recorded as Go-only, so rows that use them are excluded with that reason.

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"reflect"
	"strconv"
	"strings"
)

type extracted struct {
	expr   string
	file   string
	line   int
	test   string
	env    map[string]any
	goOnly map[string]bool // members of the test's environment that are not data
	envID  string
}

var tableKeys = map[string]bool{"input": true, "code": true, "expr": true, "expression": true, "exp": true}

var compileFuncs = map[string]bool{"Compile": true, "Eval": true, "Parse": true, "ParseCheck": true, "ParseWithConfig": true}

// extractFile returns the expressions of one test file; defaultEnv is used by test functions that
// declare no map environment of their own.
func extractFile(path, display string, defaultEnv map[string]any, defaultGoOnly map[string]bool, defaultEnvID string) ([]extracted, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, 0)
	if err != nil {
		return nil, err
	}
	var out []extracted
	for _, decl := range f.Decls {
		fn, ok := decl.(*ast.FuncDecl)
		if !ok || fn.Body == nil || !strings.HasPrefix(fn.Name.Name, "Test") {
			continue
		}
		env, goOnly, envID := defaultEnv, defaultGoOnly, defaultEnvID
		if lit := firstMapEnv(fn.Body); lit != nil {
			env, goOnly = portableMap(lit)
			envID = fmt.Sprintf("%s:%s", display, fn.Name.Name)
		}
		seen := map[string]bool{}
		add := func(lit *ast.BasicLit) {
			if lit == nil || lit.Kind != token.STRING {
				return
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil || strings.TrimSpace(s) == "" || seen[s] {
				return
			}
			seen[s] = true
			out = append(out, extracted{expr: s, file: display, line: fset.Position(lit.Pos()).Line, test: fn.Name.Name, env: env, goOnly: goOnly, envID: envID})
		}
		ast.Inspect(fn.Body, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CompositeLit:
				if !isRowLiteral(n) || len(n.Elts) == 0 {
					return true
				}
				for _, e := range n.Elts {
					if kv, ok := e.(*ast.KeyValueExpr); ok {
						if key, ok := kv.Key.(*ast.Ident); ok && tableKeys[key.Name] {
							add(stringLit(kv.Value))
						}
					}
				}
				add(stringLit(n.Elts[0]))
			case *ast.CallExpr:
				if sel, ok := n.Fun.(*ast.SelectorExpr); ok && compileFuncs[sel.Sel.Name] && len(n.Args) > 0 {
					add(stringLit(n.Args[0]))
				}
			}
			return true
		})
	}
	return out, nil
}

func stringLit(e ast.Expr) *ast.BasicLit {
	if lit, ok := e.(*ast.BasicLit); ok && lit.Kind == token.STRING {
		return lit
	}
	return nil
}

// isRowLiteral: a struct literal of a test table (its type elided inside a slice literal, or named).
func isRowLiteral(n *ast.CompositeLit) bool {
	switch n.Type.(type) {
	case nil, *ast.Ident, *ast.StructType:
		return true
	}
	return false
}

// firstMapEnv finds the test's environment: a map[string]any literal assigned to a variable named
// env (or *Env) or passed to expr.Env(...). Other map literals of a test are data, not environments.
func firstMapEnv(body *ast.BlockStmt) *ast.CompositeLit {
	var found *ast.CompositeLit
	isEnvMap := func(e ast.Expr) *ast.CompositeLit {
		lit, ok := e.(*ast.CompositeLit)
		if !ok {
			return nil
		}
		if m, ok := lit.Type.(*ast.MapType); ok && isIdent(m.Key, "string") && isAnyType(m.Value) {
			return lit
		}
		return nil
	}
	ast.Inspect(body, func(n ast.Node) bool {
		if found != nil {
			return false
		}
		switch n := n.(type) {
		case *ast.AssignStmt:
			for i, lhs := range n.Lhs {
				if id, ok := lhs.(*ast.Ident); ok && strings.HasSuffix(strings.ToLower(id.Name), "env") && i < len(n.Rhs) {
					found = isEnvMap(n.Rhs[i])
				}
			}
		case *ast.ValueSpec:
			for i, id := range n.Names {
				if strings.HasSuffix(strings.ToLower(id.Name), "env") && i < len(n.Values) {
					found = isEnvMap(n.Values[i])
				}
			}
		case *ast.CallExpr:
			if sel, ok := n.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Env" && len(n.Args) == 1 {
				found = isEnvMap(n.Args[0])
			}
		}
		return found == nil
	})
	return found
}

func isIdent(e ast.Expr, name string) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == name
}

func isAnyType(e ast.Expr) bool {
	if isIdent(e, "any") {
		return true
	}
	it, ok := e.(*ast.InterfaceType)
	return ok && len(it.Methods.List) == 0
}

func portableMap(lit *ast.CompositeLit) (map[string]any, map[string]bool) {
	env := map[string]any{}
	goOnly := map[string]bool{}
	for _, e := range lit.Elts {
		kv, ok := e.(*ast.KeyValueExpr)
		if !ok {
			continue
		}
		key := stringLit(kv.Key)
		if key == nil {
			continue
		}
		name, _ := strconv.Unquote(key.Value)
		v, ok := literalValue(kv.Value, anyType)
		if ok {
			env[name] = v
		} else {
			goOnly[name] = true
		}
	}
	return env, goOnly
}

var anyType = reflect.TypeOf(new(any)).Elem()

func astType(e ast.Expr) (reflect.Type, bool) {
	switch e := e.(type) {
	case *ast.Ident:
		if e.Name == "any" {
			return anyType, true
		}
		t, ok := basicTypes[e.Name]
		return t, ok
	case *ast.InterfaceType:
		if len(e.Methods.List) == 0 {
			return anyType, true
		}
	case *ast.ArrayType:
		elem, ok := astType(e.Elt)
		if !ok || e.Len != nil {
			return nil, false
		}
		return reflect.SliceOf(elem), true
	case *ast.MapType:
		k, ok1 := astType(e.Key)
		v, ok2 := astType(e.Value)
		if ok1 && ok2 {
			return reflect.MapOf(k, v), true
		}
	}
	return nil, false
}

// literalValue evaluates a Go literal of plain data as a value assignable to `want`.
func literalValue(e ast.Expr, want reflect.Type) (any, bool) {
	switch e := e.(type) {
	case *ast.BasicLit:
		switch e.Kind {
		case token.INT:
			n, err := strconv.ParseInt(strings.ReplaceAll(e.Value, "_", ""), 0, 64)
			if err != nil {
				return nil, false
			}
			return convertTo(reflect.ValueOf(int(n)), want)
		case token.FLOAT:
			f, err := strconv.ParseFloat(strings.ReplaceAll(e.Value, "_", ""), 64)
			if err != nil {
				return nil, false
			}
			return convertTo(reflect.ValueOf(f), want)
		case token.STRING:
			s, err := strconv.Unquote(e.Value)
			if err != nil {
				return nil, false
			}
			return convertTo(reflect.ValueOf(s), want)
		}
	case *ast.Ident:
		switch e.Name {
		case "true", "false":
			return convertTo(reflect.ValueOf(e.Name == "true"), want)
		case "nil":
			switch want.Kind() {
			case reflect.Interface, reflect.Slice, reflect.Map:
				return reflect.Zero(want).Interface(), true
			}
		}
	case *ast.UnaryExpr:
		if e.Op == token.SUB {
			v, ok := literalValue(e.X, want)
			if !ok {
				return nil, false
			}
			rv := reflect.ValueOf(v)
			switch rv.Kind() {
			case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
				out := reflect.New(rv.Type()).Elem()
				out.SetInt(-rv.Int())
				return out.Interface(), true
			case reflect.Float32, reflect.Float64:
				out := reflect.New(rv.Type()).Elem()
				out.SetFloat(-rv.Float())
				return out.Interface(), true
			}
		}
	case *ast.CallExpr:
		if id, ok := e.Fun.(*ast.Ident); ok && len(e.Args) == 1 {
			if t, ok := basicTypes[id.Name]; ok && id.Name != "interface {}" {
				v, ok := literalValue(e.Args[0], anyType)
				if !ok {
					return nil, false
				}
				rv := reflect.ValueOf(v)
				if !rv.Type().ConvertibleTo(t) {
					return nil, false
				}
				return convertTo(rv.Convert(t), want)
			}
		}
	case *ast.CompositeLit:
		t := want
		if e.Type != nil {
			var ok bool
			if t, ok = astType(e.Type); !ok {
				return nil, false
			}
		}
		switch t.Kind() {
		case reflect.Slice:
			out := reflect.MakeSlice(t, 0, len(e.Elts))
			for _, el := range e.Elts {
				v, ok := literalValue(el, t.Elem())
				if !ok {
					return nil, false
				}
				out = reflect.Append(out, valueOrZero(v, t.Elem()))
			}
			return convertTo(out, want)
		case reflect.Map:
			out := reflect.MakeMap(t)
			for _, el := range e.Elts {
				kv, ok := el.(*ast.KeyValueExpr)
				if !ok {
					return nil, false
				}
				k, ok1 := literalValue(kv.Key, t.Key())
				v, ok2 := literalValue(kv.Value, t.Elem())
				if !ok1 || !ok2 {
					return nil, false
				}
				out.SetMapIndex(valueOrZero(k, t.Key()), valueOrZero(v, t.Elem()))
			}
			return convertTo(out, want)
		}
	case *ast.ParenExpr:
		return literalValue(e.X, want)
	}
	return nil, false
}

func valueOrZero(v any, t reflect.Type) reflect.Value {
	if v == nil {
		return reflect.Zero(t)
	}
	return reflect.ValueOf(v)
}

// convertTo gives a constant the type Go would: an untyped constant takes the wanted basic type.
func convertTo(v reflect.Value, want reflect.Type) (any, bool) {
	if want == nil || want.Kind() == reflect.Interface {
		return v.Interface(), true
	}
	if v.Type().AssignableTo(want) {
		return v.Interface(), true
	}
	switch v.Kind() {
	case reflect.Int, reflect.Float64:
		if v.Type().ConvertibleTo(want) && want.Kind() != reflect.String {
			return v.Convert(want).Interface(), true
		}
	}
	return nil, false
}
