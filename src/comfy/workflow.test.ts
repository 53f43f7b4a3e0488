import { describe, expect, it } from 'vitest';
import { detectWorkflowFormat, toApiWorkflow, UI_FORMAT_HELP, WorkflowFormatError } from './workflow.js';

const api = { '1': { class_type: 'EmptyImage', inputs: { width: 64 } }, '9': { class_type: 'SaveImage', inputs: { images: ['1', 0] }, _meta: { title: 'Save' } } };
const ui = { last_node_id: 9, last_link_id: 1, nodes: [{ id: 1, type: 'EmptyImage', widgets_values: [64] }], links: [], groups: [], extra: {}, version: 0.4 };

describe('workflow formats', () => {
  it('detects API, wrapped API and UI formats', () => {
    expect(detectWorkflowFormat(api)).toBe('api');
    expect(detectWorkflowFormat({ prompt: api, client_id: 'x' })).toBe('api-wrapped');
    expect(detectWorkflowFormat(ui)).toBe('ui');
    expect(detectWorkflowFormat([])).toBe('unknown');
    expect(detectWorkflowFormat({})).toBe('unknown');
  });

  it('returns the graph of an API or wrapped workflow, adding missing inputs', () => {
    expect(toApiWorkflow(api)).toEqual(api);
    expect(toApiWorkflow({ prompt: { '1': { class_type: 'X' } } })).toEqual({ '1': { class_type: 'X', inputs: {} } });
  });

  it('explains how to export the API format when given a UI workflow', () => {
    expect(() => toApiWorkflow(ui)).toThrow(WorkflowFormatError);
    expect(() => toApiWorkflow(ui)).toThrow(UI_FORMAT_HELP);
    expect(UI_FORMAT_HELP).toContain('Export (API)');
  });

  it('names the node that lacks a class_type', () => {
    expect(() => toApiWorkflow({ '1': { class_type: 'A', inputs: {} }, '2': { inputs: {} } })).toThrow('node "2" has no class_type');
    expect(() => toApiWorkflow('text')).toThrow('not an API-format workflow');
  });
});
