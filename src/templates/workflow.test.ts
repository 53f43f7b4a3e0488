import { describe, expect, it } from 'vitest';
import { sampleWorkflow } from '../../test/templates/support.js';
import { DefinitionError } from './errors.js';
import { UI_FORMAT_HELP } from '../comfy/workflow.js';
import { parseApiWorkflow, sinkNodes } from './workflow.js';

describe('parseApiWorkflow', () => {
  it('reads an API-format workflow with string node ids', () => {
    const workflow = parseApiWorkflow(JSON.stringify(sampleWorkflow()));
    expect(Object.keys(workflow)).toContain('10');
    expect(workflow['3']?.class_type).toBe('KSampler');
  });

  it('unwraps {"prompt": {...}}', () => {
    const workflow = parseApiWorkflow(JSON.stringify({ prompt: sampleWorkflow() }));
    expect(workflow['4']?.class_type).toBe('CheckpointLoaderSimple');
  });

  it('recognises the UI format and says how to export the API format', () => {
    const ui = { last_node_id: 9, nodes: [{ id: 3, type: 'KSampler', widgets_values: [0] }], links: [[1, 4, 0, 3, 0, 'MODEL']], version: 0.4 };
    expect(() => parseApiWorkflow(JSON.stringify(ui))).toThrow(UI_FORMAT_HELP);
    expect(UI_FORMAT_HELP).toMatch(/Export \(API\)/);
  });

  it.each([
    ['not json', '{"3": ', /not valid JSON/],
    ['an array', '[1, 2]', /JSON object of node id/],
    ['no nodes', '{}', /has no nodes/],
    ['a node without class_type', '{"3": {"inputs": {}}}', /entry "3" is not an API-format node/],
    ['a node with inputs that are not an object', '{"3": {"class_type": "X", "inputs": [1]}}', /entry "3"/],
  ])('refuses %s', (_what, text, message) => {
    expect(() => parseApiWorkflow(text)).toThrow(DefinitionError);
    expect(() => parseApiWorkflow(text)).toThrow(message);
  });
});

describe('sinkNodes', () => {
  it('lists the nodes nothing consumes', () => {
    expect(sinkNodes(sampleWorkflow()).sort()).toEqual(['11', '9']);
  });
});
