import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { command, problemsOf } from '../../test/templates/support.js';
import type { ApiWorkflow } from '../comfy/types.js';
import { prepareJob } from './prepare.js';
import { parseApiWorkflow } from './workflow.js';

const workflow: ApiWorkflow = parseApiWorkflow(readFileSync(new URL('../../templates/blend.json', import.meta.url), 'utf8'));
const options = `
options:
  - {name: image1, type: image, required: true, target: Load Image 1.image}
  - {name: image2, type: image, required: true, target: Load Image 2.image}
  - {name: image3, type: image, target: Load Image 3.image, bypass_if_missing: Blend 3.image1}
  - {name: image4, type: image, target: Load Image 4.image, bypass_if_missing: Blend 4.image1}
`;
const blend = command(`name: blend\ndescription: d\ntemplate: t.json\n${options}`, workflow);

describe('bypass_if_missing', () => {
  it('keeps the whole graph when every image is given', () => {
    const job = prepareJob(blend, { image1: 'a', image2: 'b', image3: 'c', image4: 'd' });
    expect(Object.keys(job.workflow).sort()).toEqual(Object.keys(workflow).sort());
    expect(job.images.map((image) => image.option)).toEqual(['image1', 'image2', 'image3', 'image4']);
  });

  it('bypasses the Blend nodes of left-out images and drops their loaders', () => {
    const job = prepareJob(blend, { image1: 'a', image2: 'b' });
    const classes = Object.values(job.workflow).map((node) => node.inputs);
    for (const gone of ['3', '4', '7', '8']) expect(job.workflow[gone]).toBeUndefined();
    // VAE Encode now takes the two-image blend.
    expect(job.workflow['12']?.inputs['pixels']).toEqual(['6', 0]);
    expect(classes.length).toBe(Object.keys(workflow).length - 4);
    // The template itself is untouched.
    expect(blend.workflow['8']?.inputs['image1']).toEqual(['7', 0]);
  });

  it('passes through only the missing image: a fourth without a third blends over the two-image mix', () => {
    const job = prepareJob(blend, { image1: 'a', image2: 'b', image4: 'd' });
    expect(job.workflow['3']).toBeUndefined();
    expect(job.workflow['7']).toBeUndefined();
    expect(job.workflow['8']?.inputs['image1']).toEqual(['6', 0]);
    expect(job.workflow['4']?.class_type).toBe('LoadImage');
  });

  it('refuses a bypass on a required image, on a literal input, or one that leaves the image feeding the graph', () => {
    const head = 'name: blend\ndescription: d\ntemplate: t.json\noptions:\n';
    expect(problemsOf(`${head}  - {name: i, type: image, required: true, target: Load Image 3.image, bypass_if_missing: Blend 3.image1}`, workflow)[0]?.message)
      .toContain('bypass_if_missing is for optional images');
    expect(problemsOf(`${head}  - {name: i, type: image, target: Load Image 3.image, bypass_if_missing: Blend 3.blend_mode}`, workflow)[0]?.message)
      .toContain('must be a link');
    expect(problemsOf(`${head}  - {name: i, type: image, target: Load Image 3.image, bypass_if_missing: Blend 4.image1}`, workflow)[0]?.message)
      .toContain('would still feed the workflow; bypass the node that takes the image');
  });
});
