import { describe, expect, it } from 'vitest';
import { sampleWorkflow } from '../../test/templates/support.js';
import { resolveNode, resolveTarget } from './targets.js';

describe('resolveTarget', () => {
  const workflow = sampleWorkflow();

  it('matches a title first', () => {
    expect(resolveTarget(workflow, 'Positive Prompt.text')).toEqual({ nodeId: '6', matchedBy: 'title', input: 'text', ref: 'Positive Prompt.text' });
  });

  it('then a node id', () => {
    expect(resolveTarget(workflow, '5.width')).toMatchObject({ nodeId: '5', matchedBy: 'id' });
  });

  it('then a class used by exactly one node', () => {
    expect(resolveTarget(workflow, 'EmptyLatentImage.height')).toMatchObject({ nodeId: '5', matchedBy: 'class' });
  });

  it('prefers a title over an id that happens to equal it', () => {
    const tricky = { ...sampleWorkflow(), '6': { class_type: 'X', inputs: { text: '' }, _meta: { title: '7' } } };
    expect(resolveNode(tricky, '7')).toEqual({ nodeId: '6', matchedBy: 'title' });
  });

  it('takes the input after the last dot, so titles may contain dots', () => {
    const dotted = { '1': { class_type: 'CLIPTextEncode', inputs: { text: '' }, _meta: { title: 'Prompt v1.5' } } };
    expect(resolveTarget(dotted, 'Prompt v1.5.text')).toMatchObject({ nodeId: '1', input: 'text' });
  });

  it('refuses a title used by several nodes and asks for the id', () => {
    expect(() => resolveTarget(workflow, 'Save Image.filename_prefix')).toThrow('title "Save Image" is used by nodes 9, 11; name the node by its id instead');
  });

  it('refuses a class used by several nodes', () => {
    expect(() => resolveTarget(workflow, 'CLIPTextEncode.text')).toThrow(/class CLIPTextEncode is used by nodes 6, 7/);
  });

  it('refuses an unknown node', () => {
    expect(() => resolveTarget(workflow, 'Positive.text')).toThrow('no node in the template has the title, id or class "Positive"');
  });

  it('refuses a missing input, saying which node matched and how, and listing its inputs', () => {
    expect(() => resolveTarget(workflow, 'KSampler.sed')).toThrow(
      'target "KSampler.sed": node 3 ("KSampler", KSampler), matched by title has no input "sed" (its inputs: seed, steps, cfg, sampler_name, scheduler, denoise, model, positive, negative, latent_image)',
    );
  });

  it('refuses to overwrite a link', () => {
    expect(() => resolveTarget(workflow, 'KSampler.model')).toThrow(/input "model" of node 3 .* is a link from node 4; only literal inputs can be set/);
  });

  it.each(['KSampler', 'KSampler.', '.seed'])('refuses the malformed target %j', (ref) => {
    expect(() => resolveTarget(workflow, ref)).toThrow(/must be <node title, id or class>.<input name>/);
  });

  it('does not treat prototype keys as nodes or inputs', () => {
    expect(() => resolveTarget(workflow, '__proto__.text')).toThrow(/no node in the template/);
    expect(() => resolveTarget(workflow, 'KSampler.constructor')).toThrow(/has no input "constructor"/);
  });
});
