// The workflows the bench submits. Distinct seeds keep the fake ComfyUI's node cache from turning runs into
// cached re-runs, except where a benchmark repeats a workflow on purpose.
import type { ApiWorkflow } from '../src/comfy/types.js';

/** txt2img with one sampler: `steps` progress events and (with previews on) as many preview frames. */
export function samplerWorkflow(seed: number, steps: number): ApiWorkflow {
  return {
    '3': {
      class_type: 'KSampler',
      inputs: { seed, steps, cfg: 7, sampler_name: 'euler', scheduler: 'normal', denoise: 1, model: ['4', 0], positive: ['6', 0], negative: ['7', 0], latent_image: ['5', 0] },
      _meta: { title: 'Sampler' },
    },
    '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'sd15.safetensors' } },
    '5': { class_type: 'EmptyLatentImage', inputs: { width: 64, height: 64, batch_size: 1 } },
    '6': { class_type: 'CLIPTextEncode', inputs: { text: `bench prompt ${seed}`, clip: ['4', 1] } },
    '7': { class_type: 'CLIPTextEncode', inputs: { text: 'blurry', clip: ['4', 1] } },
    '8': { class_type: 'VAEDecode', inputs: { samples: ['3', 0], vae: ['4', 2] } },
    '9': { class_type: 'SaveImage', inputs: { images: ['8', 0], filename_prefix: 'bench' } },
  };
}

/** The fastest real run: a small solid image saved (no sampler, no previews). */
export function quickWorkflow(seed: number): ApiWorkflow {
  return {
    '1': { class_type: 'EmptyImage', inputs: { width: 16, height: 16, batch_size: 1, color: seed % 0xffffff } },
    '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'bench' } },
  };
}
