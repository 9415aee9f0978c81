/**
 * Bodies written piece by piece (src/encoded-body.ts BodyBuilder, health-view writeJson, the text
 * view's writeTable) are byte for byte what serializing the whole document at once gives, across
 * flush boundaries and with multi-byte characters split between pieces.
 */
import { type Gzip, gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { BodyBuilder, EncodedBody } from '../../src/encoded-body.js';
import { type HealthBody, type HealthEntry, RenderedHealth } from '../../src/http/health-view.js';
import { renderTextView } from '../../src/http/text-view.js';

const NOW = Date.parse('2026-11-26T00:00:12.000Z');

function entry(i: number): HealthEntry {
  const status = (['ok', 'warn', 'fail', 'unknown'] as const)[i % 4]!;
  return {
    check: 'rollout-status',
    target: `ns-${i}/rollout-${i}`,
    status,
    summary: `rollout-${i} "quoted" \\ back\nslash, ünïcödé ✓ 🚀 ${'x'.repeat(i % 300)}`,
    remediation: status === 'ok' ? [] : [`kubectl argo rollouts get rollout rollout-${i} -n ns-${i}`, 'Read the \u0000 log.'],
    details: { index: i, nested: { list: [1, null, 'two'] }, placeholder: '\u0000checks\u0000' },
    since: '2026-11-26T00:00:00.000Z',
    durationMs: i / 7,
    ...(i % 11 === 0 ? { muted: true, muteReason: 'maintenance' } : {}),
  };
}

function body(entries: number, withCycle = true): HealthBody {
  return {
    schemaVersion: 1,
    status: 'fail',
    checkedAt: withCycle ? '2026-11-26T00:00:00.000Z' : null,
    cycle: withCycle ? { durationMs: 12.5, apiRequests: 40 } : null,
    incidents: [{ id: '0123456789ab', status: 'fail', root: { check: 'rollout-status', target: 'ns-0/rollout-0' }, summary: '\u0000checks\u0000', effects: [], since: '2026-11-26T00:00:00.000Z', remediation: [] }],
    checks: Array.from({ length: entries }, (_, i) => entry(i)),
  };
}

describe('BodyBuilder', () => {
  it('gives the UTF-8 bytes of everything written, across flushes', () => {
    const builder = new BodyBuilder();
    let expected = '';
    for (let i = 0; i < 20_000; i++) {
      const piece = `line ${i} é✓🚀 ${'y'.repeat(i % 97)}\n`;
      builder.write(piece);
      expected += piece;
    }
    const bytes = builder.toBuffer();
    expect(bytes.length).toBeGreaterThan(1024 * 1024);
    expect(bytes.equals(Buffer.from(expected, 'utf8'))).toBe(true);
  });

  it('an empty body is zero bytes', async () => {
    expect(new BodyBuilder().toBuffer().length).toBe(0);
    const empty = new BodyBuilder({ gzipWhileWriting: true }).finish();
    expect([empty.length, empty.identity?.length]).toEqual([0, 0]);
  });

  it('gzips while writing to the same bytes as gzipping at the end', async () => {
    for (const [name, count] of [['many parts', 30_000], ['one part', 300], ['below the compression threshold', 2]] as const) {
      const write = (builder: BodyBuilder) => {
        for (let i = 0; i < count; i++) builder.write(`line ${i} é✓🚀 ${'y'.repeat(i % 97)}\n`);
        return builder;
      };
      const atEnd = write(new BodyBuilder()).finish();
      const streamed = write(new BodyBuilder({ gzipWhileWriting: true })).finish();
      await Promise.all([atEnd.ready, streamed.ready]);
      expect(streamed.length, name).toBe(atEnd.length);
      expect(streamed.text(), name).toBe(atEnd.text());
      if (atEnd.gzip === undefined) expect(streamed.gzip, name).toBeUndefined();
      else expect(streamed.gzip!.equals(atEnd.gzip), name).toBe(true);
    }
  });

  it('closes the gzip stream of a body that is discarded (a newer render won, or the render threw)', async () => {
    const builder = new BodyBuilder({ gzipWhileWriting: true });
    for (let i = 0; i < 20_000; i++) builder.write(`line ${i}\n`);
    const { stream } = (builder as unknown as { gzipping: { stream: Gzip } }).gzipping;
    expect(stream.destroyed).toBe(false);
    builder.discard();
    expect(stream.destroyed).toBe(true);
    new BodyBuilder().discard(); // nothing to close
  });

  it('fill writes through its callback, and a fill that throws discards the body and passes the error on', async () => {
    const written = new BodyBuilder({ gzipWhileWriting: true });
    await written.fill(async (write) => {
      write('a ');
      await Promise.resolve();
      write('b');
    });
    expect(written.toBuffer().toString()).toBe('a b');
    written.discard();
    const failed = new BodyBuilder({ gzipWhileWriting: true });
    const { stream } = (failed as unknown as { gzipping: { stream: Gzip } }).gzipping;
    await expect(failed.fill(async (write) => {
      write('partial');
      throw new Error('render failed');
    })).rejects.toThrow('render failed');
    expect(stream.destroyed).toBe(true);
  });

  it('bodies written at the same time, across turns, each gzip to their own bytes', async () => {
    const builders = Array.from({ length: 3 }, () => new BodyBuilder({ gzipWhileWriting: true }));
    const expected = builders.map(() => '');
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 12_000; i++) {
        builders.forEach((builder, b) => {
          // Multi-byte characters, and one write far longer than a flush.
          const piece = i === 5_000 && b === 1 ? `${'ü'.repeat(150_000)}\n` : `${b}:${round}:${i} é✓🚀 ${'z'.repeat((i + b) % 89)}\n`;
          builder.write(piece);
          expected[b] += piece;
        });
      }
      await new Promise((resolve) => setImmediate(resolve)); // zlib reads parts meanwhile
    }
    const bodies = builders.map((builder) => builder.finish());
    await Promise.all(bodies.map((body) => body.ready));
    bodies.forEach((body, b) => {
      expect(body.length).toBe(Buffer.byteLength(expected[b]!));
      expect(gunzipSync(body.gzip!).toString('utf8') === expected[b], `body ${b}`).toBe(true);
    });
  });

  it('keeps a large body written with its gzip only as the gzip, whose length is the identity\'s', async () => {
    const builder = new BodyBuilder({ gzipWhileWriting: true });
    let expected = '';
    for (let i = 0; i < 20_000; i++) {
      const piece = `line ${i} é✓🚀 ${'y'.repeat(i % 97)}\n`;
      builder.write(piece);
      expected += piece;
    }
    expect(() => builder.toBuffer()).toThrow(/only as the gzip/);
    const body = builder.finish();
    expect(body.identity).toBeUndefined();
    expect(() => body.text()).toThrow(/not ready/);
    await body.ready;
    expect(body.isComplete).toBe(true);
    expect(body.length).toBe(Buffer.byteLength(expected));
    expect(gunzipSync(body.gzip!).toString('utf8')).toBe(expected);
  });
});

describe('EncodedBody', () => {
  it('is ready once its gzip is (the renderers publish a body only then); then it keeps only the gzip, which decodes to the identity bytes', async () => {
    const builder = new BodyBuilder();
    // Over a megabyte of gzip output, so zlib hands out more than one chunk.
    for (let i = 0; i < 100_000; i++) builder.write(`${Math.random().toString(36)}${i.toString(36).repeat(8)} é✓\n`);
    const bytes = builder.toBuffer();
    const body = EncodedBody.of(bytes);
    expect(body.gzip).toBeUndefined();
    expect(body.identity).toBe(bytes);
    await body.ready;
    expect(body.gzip!.length).toBeGreaterThan(1024 * 1024);
    expect(body.identity).toBeUndefined();
    expect(body.length).toBe(bytes.length);
    expect(gunzipSync(body.gzip!).equals(bytes)).toBe(true);
    const inflated: Buffer[] = [];
    for await (const chunk of body.inflate()) inflated.push(chunk as Buffer);
    expect(Buffer.concat(inflated).equals(bytes)).toBe(true);
  });

  it('a body between 8 KB and 512 KB keeps its identity beside its gzip, made at the end or while written', async () => {
    const text = Array.from({ length: 2_000 }, (_, i) => `line ${i} é✓🚀\n`).join('');
    const written = new BodyBuilder({ gzipWhileWriting: true });
    written.write(text);
    for (const body of [EncodedBody.of(text), written.finish()]) {
      await body.ready;
      expect(body.length).toBe(Buffer.byteLength(text));
      expect(body.identity!.toString('utf8')).toBe(text);
      expect(gunzipSync(body.gzip!).toString('utf8')).toBe(text);
    }
  });

  it('a small body is ready at once, without a gzip', async () => {
    const body = EncodedBody.of('ok\n');
    await body.ready;
    expect(body.gzip).toBeUndefined();
    expect(body.identity!.toString()).toBe('ok\n');
  });
});

describe('RenderedHealth', () => {
  for (const [name, doc] of [
    ['no cycle yet', body(0, false)],
    ['no results', body(0)],
    ['one result', body(1)],
    ['5,000 results (many flushes)', body(5000)],
  ] as const) {
    it(`JSON and text equal whole-document serialization: ${name}`, () => {
      const rendered = new RenderedHealth(doc);
      expect(rendered.json).toBe(JSON.stringify(doc));
      expect(JSON.parse(rendered.json)).toEqual(doc);
      for (const variant of [{ width: 100, verbose: false }, { width: 80, verbose: true }]) {
        expect(rendered.text(NOW, variant).equals(Buffer.from(renderTextView(doc, NOW, variant), 'utf8'))).toBe(true);
      }
    });
  }

  it('renders JSON and the table in steps to the same bytes as in one go (what /health serves after a cycle)', async () => {
    const doc = body(5000);
    const stepped = new RenderedHealth(doc);
    await stepped.renderInSteps();
    await stepped.encodedJson().ready;
    for (const variant of [{ width: 100, verbose: false }, { width: 80, verbose: true }]) await stepped.renderTableInSteps(variant);
    const whole = new RenderedHealth(doc);
    expect(stepped.json).toBe(whole.json);
    for (const variant of [{ width: 100, verbose: false }, { width: 80, verbose: true }]) {
      expect(stepped.table(variant).equals(whole.table(variant))).toBe(true);
      expect(stepped.text(NOW, variant).equals(Buffer.from(renderTextView(doc, NOW, variant), 'utf8'))).toBe(true);
    }
  });

  it('renders a table in steps once, however many requests ask for it meanwhile', async () => {
    const rendered = new RenderedHealth(body(500));
    const variant = { width: 100, verbose: false };
    const first = rendered.renderTableInSteps(variant);
    expect(rendered.renderTableInSteps(variant)).toBe(first);
    await first;
    const table = rendered.table(variant);
    await rendered.renderTableInSteps(variant);
    expect(rendered.table(variant)).toBe(table);
    expect(table.equals(new RenderedHealth(body(500)).table(variant))).toBe(true);
  });

  it('encodes each form once (the text view once per width and verbosity)', () => {
    const rendered = new RenderedHealth(body(3));
    expect(rendered.encodedJson()).toBe(rendered.encodedJson());
    expect(rendered.table({ width: 100, verbose: false })).toBe(rendered.table({ width: 100, verbose: false }));
    expect(rendered.table({ width: 100, verbose: true })).not.toBe(rendered.table({ width: 100, verbose: false }));
    // The whole text is put together once per second of the cycle's age (its count line says it).
    expect(rendered.text(NOW, { width: 100, verbose: false })).toBe(rendered.text(NOW + 400, { width: 100, verbose: false }));
    expect(rendered.text(NOW + 1000, { width: 100, verbose: false }).toString()).toContain('(checked 13 s ago,');
  });
});
