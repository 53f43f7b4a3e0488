import { describe, expect, it } from 'vitest';
import { httpExchanges, loadTranscript } from '../../test/fakes/comfy/transcripts.js';
import { comboOptions } from './combo.js';
import { ComfyHttpError, ComfyValidationError, isPromptErrorBody } from './errors.js';
import type { ApiWorkflow } from './types.js';

const place = { backend: 'gpu1', route: 'POST /prompt' };

function rejected(transcript: string): Array<{ body: unknown; prompt: ApiWorkflow }> {
  return httpExchanges(loadTranscript(transcript), 'POST', '/prompt')
    .filter((l) => l.status === 400)
    .map((l) => ({ body: l.response_json, prompt: (l.request_json as { prompt: ApiWorkflow }).prompt }));
}

function validationError(body: unknown, prompt?: ApiWorkflow): ComfyValidationError {
  if (!isPromptErrorBody(body)) throw new Error('not a prompt error body');
  return new ComfyValidationError(place, body, prompt);
}

describe('ComfyValidationError.describe', () => {
  it('explains every 400 body of transcript 05 in lines naming node and input', () => {
    const lines = rejected('05').map(({ body, prompt }) => validationError(body, prompt).describe());
    expect(lines).toEqual([
      ['EmptyImage.width: -5 is below the minimum 1'],
      ["EmptyImage.width: 'abc' is not a valid INT"],
      ["ImageScale.upscale_method: 'bogus' is not one of nearest-exact, bilinear, area, bicubic, lanczos"],
      ['EmptyImage.height: required input is missing'],
      ['ImageInvert.images: an upstream link is broken (\'99\')'],
      ['ImageInvert.image: linked output is MASK but IMAGE is expected'],
      ['LoadImage.image: image - Invalid image file: no_such_image.png'],
      ['the workflow has no output node (add a SaveImage or PreviewImage)'],
      ['ImageInvert.images: an upstream link is broken (tuple index out of range)'],
      ['the request carried no workflow'],
    ]);
  });

  it('explains the missing node class of transcript 06', () => {
    const [first] = rejected('06');
    const err = validationError(first?.body);
    expect(err.errorType).toBe('invalid_prompt');
    expect(err.describe()).toEqual(["Cannot execute because node DoesNotExistNode does not exist. (Node ID '#2')"]);
    expect(err.message).toContain('gpu1 POST /prompt');
  });

  it('uses the workflow title and says "above the maximum" and "installed choices"', () => {
    const body = {
      error: { type: 'prompt_outputs_failed_validation', message: 'Prompt outputs failed validation', details: '', extra_info: {} },
      node_errors: {
        '3': {
          class_type: 'KSampler',
          dependent_outputs: ['9'],
          errors: [{ type: 'value_bigger_than_max', message: 'Value 80 bigger than max of 50', details: 'steps', extra_info: { input_name: 'steps', input_config: ['INT', { min: 1, max: 50 }], received_value: 80 } }],
        },
        '4': {
          class_type: 'CheckpointLoaderSimple',
          dependent_outputs: ['9'],
          errors: [{ type: 'value_not_in_list', message: 'Value not in list', details: "ckpt_name: 'x.safetensors' not in (list of length 37)", extra_info: { input_name: 'ckpt_name', input_config: null, received_value: 'x.safetensors' } }],
        },
      },
    };
    const workflow: ApiWorkflow = {
      '3': { class_type: 'KSampler', inputs: {} },
      '4': { class_type: 'CheckpointLoaderSimple', inputs: {}, _meta: { title: 'Load Checkpoint' } },
    };
    const err = validationError(body, workflow);
    expect(err.describe()).toEqual(['KSampler.steps: 80 is above the maximum 50', "Load Checkpoint.ckpt_name: 'x.safetensors' is not one of the installed choices"]);
    expect(err.problems[0]).toMatchObject({ nodeId: '3', classType: 'KSampler', inputName: 'steps', receivedValue: 80 });
  });

  it('explains the newer missing_node_type error with its node title', () => {
    const err = validationError({
      error: { type: 'missing_node_type', message: 'Node type not found', details: "Node 'My Node' has no class_type", extra_info: { node_id: '2', class_type: 'Foo', node_title: 'My Node' } },
      node_errors: {},
    });
    expect(err.describe()).toEqual(["My Node: Node type not found (Node 'My Node' has no class_type)"]);
  });
});

describe('ComfyHttpError', () => {
  it('names backend and route, and explains 403, 413 and plain-text 500s', () => {
    expect(new ComfyHttpError(place, 403, '').message).toMatch(/^gpu1 POST \/prompt: HTTP 403 forbidden: ComfyUI rejects requests whose Origin/);
    expect(new ComfyHttpError(place, 413, '').message).toContain('request body too large');
    const body500 = httpExchanges(loadTranscript('05'), 'POST', '/prompt').find((l) => l.status === 500)?.response_text ?? '';
    expect(new ComfyHttpError(place, 500, body500).message).toBe('gpu1 POST /prompt: HTTP 500: 500 Internal Server Error — Server got itself in trouble');
  });
});

describe('comboOptions', () => {
  it('reads both combo shapes and nothing else', () => {
    expect(comboOptions([['a', 'b'], {}])).toEqual(['a', 'b']);
    expect(comboOptions(['COMBO', { options: ['x'], default: 'x' }])).toEqual(['x']);
    expect(comboOptions(['INT', { min: 0 }])).toBeUndefined();
    expect(comboOptions(['COMBO', {}])).toBeUndefined();
    expect(comboOptions('nope')).toBeUndefined();
  });
});
