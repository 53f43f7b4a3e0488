// The conversion rules where converters disagree (the frontend's choice is followed) and the refusals, each on a
// small graph built for the rule. The corpus in test/templates/import-corpus.test.ts covers whole workflows.
import { describe, expect, it } from 'vitest';
import type { NodeInfo } from '../../comfy/http.js';
import { convertWorkflow, ImportError, type Catalogue } from './convert.js';
import { JsonSyntaxError, parseExactJson } from './exact-json.js';

function info(required: Record<string, unknown>, output: string[] = [], outputNode = false): NodeInfo {
  return { input: { required }, input_order: { required: Object.keys(required) }, output, name: '', output_node: outputNode };
}

const catalogue: Catalogue = {
  Seeded: info({ seed: ['INT', { control_after_generate: true }], mode: [['fixed', 'random']], steps: ['INT', {}] }, ['INT']),
  OldSeeded: info({ seed: ['INT', {}], count: ['INT', {}] }, ['INT']),
  NotASeed: info({ amount: ['INT', {}], label: ['STRING', {}] }, ['INT']),
  Pair: info({ a: ['IMAGE', {}], b: ['IMAGE', {}] }, ['IMAGE', 'IMAGE']),
  Source: info({}, ['IMAGE']),
  Sink: info({ images: ['IMAGE', {}] }, [], true),
  Keyed: info({ x: ['INT', { default: 3 }], y: ['STRING', {}] }, ['INT']),
};

type N = { id: number; type: string; mode?: number; inputs?: Array<{ name: string; type: string; link: number | null }>; outputs?: Array<{ name: string; type: string }>; widgets_values?: unknown };

function ui(nodes: N[], links: Array<[number, number, number, number, number, string]> = []): unknown {
  return { nodes: nodes.map((node) => ({ inputs: [], outputs: [], ...node })), links, version: 0.4 };
}

const sink = (id: number, link: number | null): N => ({ id, type: 'Sink', inputs: [{ name: 'images', type: 'IMAGE', link }] });

describe('widget values', () => {
  it('drops the control companion after a flagged integer, but keeps a value the next combo really offers', () => {
    const dropped = convertWorkflow(ui([{ id: 1, type: 'Seeded', widgets_values: [5, 'randomize', 'random', 9] }, sink(2, null)]), catalogue);
    expect(dropped.workflow['1']?.inputs).toEqual({ seed: 5, mode: 'random', steps: 9 });
    const kept = convertWorkflow(ui([{ id: 1, type: 'Seeded', widgets_values: [5, 'fixed', 9] }, sink(2, null)]), catalogue);
    expect(kept.workflow['1']?.inputs).toEqual({ seed: 5, mode: 'fixed', steps: 9 });
  });

  it('recognises the companion by the seed name when the schema has no flag, whatever its saved value (old files store true)', () => {
    const old = convertWorkflow(ui([{ id: 1, type: 'OldSeeded', widgets_values: [5, true, 7] }, sink(2, null)]), catalogue);
    expect(old.workflow['1']?.inputs).toEqual({ seed: 5, count: 7 });
    const plain = convertWorkflow(ui([{ id: 1, type: 'NotASeed', widgets_values: [5, 'fixed'] }, sink(2, null)]), catalogue);
    expect(plain.workflow['1']?.inputs).toEqual({ amount: 5, label: 'fixed' });
  });

  it('wraps a list value as {__value__: […]} so the server cannot take it for a link', () => {
    const result = convertWorkflow(ui([{ id: 1, type: 'Keyed', widgets_values: [2, ['a', 1]] }, sink(2, null)]), catalogue);
    expect(result.workflow['1']?.inputs).toEqual({ x: 2, y: { __value__: ['a', 1] } });
  });

  it('reads widget values saved as an object, filling a missing one from the default and naming one without', () => {
    const result = convertWorkflow(ui([{ id: 1, type: 'Keyed', widgets_values: { y: 'hi', extra: 1 } }, sink(2, null)]), catalogue);
    expect(result.workflow['1']?.inputs).toEqual({ y: 'hi', x: 3 });
    expect(result.notes).toEqual(['node 1 (Keyed): no saved value for "x", the server\'s default is used']);
    const listed = convertWorkflow(ui([{ id: 1, type: 'Seeded', widgets_values: [5] }, sink(2, null)]), catalogue);
    expect(listed.workflow['1']?.inputs).toMatchObject({ seed: 5, mode: 'fixed' });
    const missing = convertWorkflow(ui([{ id: 1, type: 'Keyed', widgets_values: { x: 1 } }, sink(2, null)]), catalogue);
    expect(missing.problems).toEqual(['node 1 (Keyed): no value for "y" in the file and the server declares no default']);
  });
});

describe('links', () => {
  it('bridges a bypassed node through the input in the same slot first, then the first of the type', () => {
    const graph = ui(
      [
        { id: 1, type: 'Source', outputs: [{ name: 'IMAGE', type: 'IMAGE' }] },
        { id: 2, type: 'Source', outputs: [{ name: 'IMAGE', type: 'IMAGE' }] },
        { id: 3, type: 'Pair', mode: 4, inputs: [{ name: 'a', type: 'IMAGE', link: 1 }, { name: 'b', type: 'IMAGE', link: 2 }], outputs: [{ name: 'x', type: 'IMAGE' }, { name: 'y', type: 'IMAGE' }] },
        sink(4, 3),
        sink(5, 4),
      ],
      [[1, 1, 0, 3, 0, 'IMAGE'], [2, 2, 0, 3, 1, 'IMAGE'], [3, 3, 1, 4, 0, 'IMAGE'], [4, 3, 0, 5, 0, 'IMAGE']],
    );
    const result = convertWorkflow(graph, catalogue);
    expect(result.workflow['4']?.inputs.images).toEqual(['2', 0]);
    expect(result.workflow['5']?.inputs.images).toEqual(['1', 0]);
    expect(result.workflow['3']).toBeUndefined();
  });

  it('names a live node whose required input comes from a muted node', () => {
    const graph = ui([{ id: 1, type: 'Source', mode: 2, outputs: [{ name: 'IMAGE', type: 'IMAGE' }] }, sink(2, 1)], [[1, 1, 0, 2, 0, 'IMAGE']]);
    expect(convertWorkflow(graph, catalogue).problems).toContain('node 2 (Sink) input "images": its source, node 1 (Source), is muted');
  });

  it("gives an inner node the subgraph instance's own widget value for an input nothing is plugged into", () => {
    const definition = {
      id: 'sg', name: 'Seeded inside',
      nodes: [{ id: 1, type: 'Seeded', inputs: [{ name: 'seed', type: 'INT', link: 1, widget: { name: 'seed' } }], outputs: [{ name: 'INT', type: 'INT' }], widgets_values: [1, 'fixed', 2] }],
      links: [{ id: 1, origin_id: -10, origin_slot: 0, target_id: 1, target_slot: 0, type: 'INT' }],
      inputs: [{ name: 'seed', type: 'INT' }], outputs: [],
    };
    const graph = { nodes: [{ id: 5, type: 'sg', inputs: [{ name: 'seed', type: 'INT', link: null, widget: { name: 'seed' } }], outputs: [], widgets_values: [77] }, sink(9, null)], links: [], definitions: { subgraphs: [definition] } };
    const result = convertWorkflow(graph, catalogue);
    expect(result.problems).toEqual([]);
    expect(result.workflow['5:1']?.inputs).toEqual({ seed: 77, mode: 'fixed', steps: 2 });
  });

  it('keeps a seed above 2^53 exact in an API-format file too', () => {
    const result = convertWorkflow(parseExactJson('{"1": {"class_type": "Seeded", "inputs": {"seed": 18446744073709551615}}, "2": {"class_type": "Sink", "inputs": {}}}'), catalogue);
    expect(result.workflow['1']?.inputs.seed).toBe('18446744073709551615');
  });

  it('flattens nested subgraphs with path ids', () => {
    const inner = { id: 'inner', name: 'Inner', nodes: [{ id: 3, type: 'Source', inputs: [], outputs: [{ name: 'IMAGE', type: 'IMAGE' }] }], links: [{ id: 1, origin_id: 3, origin_slot: 0, target_id: -20, target_slot: 0, type: 'IMAGE' }], inputs: [], outputs: [{ name: 'out', type: 'IMAGE' }] };
    const outer = { id: 'outer', name: 'Outer', nodes: [{ id: 7, type: 'inner', inputs: [], outputs: [{ name: 'out', type: 'IMAGE' }] }], links: [{ id: 1, origin_id: 7, origin_slot: 0, target_id: -20, target_slot: 0, type: 'IMAGE' }], inputs: [], outputs: [{ name: 'out', type: 'IMAGE' }] };
    const graph = { nodes: [{ id: 5, type: 'outer', outputs: [{ name: 'out', type: 'IMAGE' }] }, { ...sink(9, 1), outputs: [] }], links: [{ id: 1, origin_id: 5, origin_slot: 0, target_id: 9, target_slot: 0, type: 'IMAGE' }], definitions: { subgraphs: [inner, outer] } };
    const result = convertWorkflow(graph, catalogue);
    expect(result.problems).toEqual([]);
    expect(Object.keys(result.workflow).sort()).toEqual(['5:7:3', '9']);
    expect(result.workflow['9']?.inputs.images).toEqual(['5:7:3', 0]);
  });
});

describe('refusals', () => {
  it('names every node of an unknown class', () => {
    const result = convertWorkflow(ui([{ id: 1, type: 'FancyUpscaler' }, sink(2, null)]), catalogue);
    expect(result.problems).toEqual([expect.stringMatching(/^node 1 \(FancyUpscaler\): node class FancyUpscaler is not on the server/)]);
  });

  it('explains what to do with a legacy group node', () => {
    const result = convertWorkflow(ui([{ id: 1, type: 'workflow>Upscaler' }, sink(2, null)]), catalogue);
    expect(result.problems).toEqual([expect.stringContaining('node 1 (workflow>Upscaler): a group node of older ComfyUI versions; in ComfyUI right-click it, choose "Convert to nodes"')]);
  });

  it('refuses a workflow without an output node', () => {
    expect(convertWorkflow(ui([{ id: 1, type: 'Source' }]), catalogue).problems).toEqual([expect.stringContaining('no output node')]);
  });

  it('refuses what is not a workflow', () => {
    expect(() => convertWorkflow({ hello: 'world' }, catalogue)).toThrow(ImportError);
    expect(() => convertWorkflow([1, 2], catalogue)).toThrow(ImportError);
  });
});

describe('parseExactJson', () => {
  it('keeps integers beyond 2^53-1 as bigint and parses the rest as JSON.parse does', () => {
    expect(parseExactJson('{"a": 18446744073709551615, "b": 9007199254740991, "c": 1e3, "d": "x\\u00e9", "e": [true, null, -0.5]}')).toEqual({
      a: 18446744073709551615n, b: 9007199254740991, c: 1000, d: 'xé', e: [true, null, -0.5],
    });
  });

  it('treats "__proto__" as a plain key and reports where the text breaks', () => {
    const parsed = parseExactJson('{"__proto__": {"polluted": 1}}') as Record<string, unknown>;
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(parsed)).toEqual(['__proto__']);
    expect(() => parseExactJson('{"a": 1,\n}')).toThrow(new JsonSyntaxError('expected a property name at line 2 (character 10)'));
    expect(() => parseExactJson('{"a": 1} x')).toThrow(JsonSyntaxError);
  });
});
