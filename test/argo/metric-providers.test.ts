/**
 * The pure parts of the metric providers: how values print (model.SampleValue), how an address
 * becomes the query URL (client_golang), and the k8s JSONPath subset the web provider reads.
 */
import { describe, expect, it } from 'vitest';
import { evalRangeTime, findJsonPath, formatGoFloat, parseGoDuration, parseK8sJsonPath, parseSampleValue, prometheusQueryUrl } from '../../src/argo/metric-providers.js';

describe('formatGoFloat (strconv.FormatFloat(f, f, -1, 64))', () => {
  it.each([
    [0, '0'],
    [0.0123, '0.0123'],
    [1e-7, '0.0000001'],
    [1.5e-10, '0.00000000015'],
    [1e21, '1000000000000000000000'],
    [-2.5e-8, '-0.000000025'],
    [Number.NaN, 'NaN'],
    [Number.POSITIVE_INFINITY, '+Inf'],
    [Number.NEGATIVE_INFINITY, '-Inf'],
  ])('%s -> %s', (value, text) => expect(formatGoFloat(value)).toBe(text));
});

describe('parseSampleValue', () => {
  it('reads the Prometheus API sample strings', () => {
    expect(parseSampleValue('0.5')).toBe(0.5);
    expect(parseSampleValue('NaN')).toBeNaN();
    expect(parseSampleValue('+Inf')).toBe(Number.POSITIVE_INFINITY);
    expect(parseSampleValue('-Inf')).toBe(Number.NEGATIVE_INFINITY);
    expect(parseSampleValue('')).toBeUndefined();
    expect(parseSampleValue(3)).toBeUndefined();
  });
});

describe('prometheusQueryUrl', () => {
  it('appends /api/v1/query to the address path, as client_golang joins it', () => {
    expect(prometheusQueryUrl('http://vmsingle.monitoring.svc:8428').toString()).toBe('http://vmsingle.monitoring.svc:8428/api/v1/query');
    expect(prometheusQueryUrl('http://vmselect:8481/select/0/prometheus/').toString()).toBe('http://vmselect:8481/select/0/prometheus/api/v1/query');
    expect(() => prometheusQueryUrl('not a url')).toThrow();
  });
});

describe('k8s JSONPath subset', () => {
  const body = { status: 'ok', data: { items: [{ name: 'a', ok: true }, { name: 'b', ok: false }], 'error-rate': 0.01 } };
  const find = (path: string) => {
    const steps = parseK8sJsonPath(path);
    if ('unsupported' in steps) return steps;
    return findJsonPath(body, steps);
  };

  it.each([
    ['{$}', [body]],
    ['{$.status}', ['ok']],
    ['{.status}', ['ok']],
    ['{$.data.items[1].name}', ['b']],
    ["{$.data['error-rate']}", [0.01]],
    ['{.data.items[*].ok}', [true, false]],
  ])('%s', (path, values) => expect(find(path)).toEqual({ values }));

  it('reports a missing key and an index past the end as the k8s JSONPath does', () => {
    expect(find('{$.missing}')).toEqual({ error: 'missing is not found' });
    expect(find('{$.data.items[5]}')).toEqual({ error: 'array index out of bounds: index 5, length 2' });
  });

  it('leaves filters, recursive descent, slices and text templates to upstream (unsupported)', () => {
    for (const path of ['{$.data.items[?(@.ok==true)].name}', '{..name}', '{$.data.items[0:1]}', '$.status', '{.a}{.b}']) {
      expect(parseK8sJsonPath(path)).toHaveProperty('unsupported');
    }
  });
});

describe('rangeQuery (prometheus.go, v1.8.0+): step as time.ParseDuration, start/end as EvalTime', () => {
  it.each([
    ['15s', 15],
    ['1h30m', 5400],
    ['1.5m', 90],
    ['500ms', 0.5],
    // Go accepts both micro signs, U+00B5 and U+03BC (time/format.go unitMap).
    ['250\u00b5s', 250e-6],
    ['250\u03bcs', 250e-6],
    ['3us', 3e-6],
    ['0', 0],
    ['-5m', -300],
    ['', undefined],
    ['5', undefined],
    ['1d', undefined],
  ])('ParseDuration(%j) = %s s', (text, seconds) => {
    expect(parseGoDuration(text)).toBe(seconds);
  });

  it('evaluates now() and now() plus or minus a duration; anything else is not guessed', () => {
    const now = Date.parse('2026-11-26T12:00:00Z');
    expect(evalRangeTime('now()', now)).toEqual({ ms: now });
    expect(evalRangeTime('now() - duration("5m")', now)).toEqual({ ms: now - 300_000 });
    expect(evalRangeTime(' now()+duration("1h") ', now)).toEqual({ ms: now + 3_600_000 });
    expect(evalRangeTime('date("2026-11-26")', now)).toHaveProperty('unsupported');
    expect(evalRangeTime('now() - duration("5 minutes")', now)).toHaveProperty('unsupported');
    expect(prometheusQueryUrl('http://prometheus:9090/prefix/', 'query_range').toString()).toBe('http://prometheus:9090/prefix/api/v1/query_range');
  });
});
