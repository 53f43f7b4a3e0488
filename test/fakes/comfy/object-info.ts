// The node catalogue the fake serves at /object_info and validates prompts against.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const FIXTURES = fileURLToPath(new URL('../../fixtures/comfyui/', import.meta.url));

export type InputSpec = [unknown, Record<string, unknown>?];

export interface NodeInfo {
  input: { required?: Record<string, InputSpec>; optional?: Record<string, InputSpec>; hidden?: Record<string, unknown> };
  output: string[];
  output_node: boolean;
  [key: string]: unknown;
}

export type ObjectInfo = Record<string, NodeInfo>;

/** The classes comfycord's own templates and tests use; `objectInfo: 'core'` serves only these. */
const CORE_CLASSES = [
  'CheckpointLoaderSimple', 'CLIPTextEncode', 'EmptyLatentImage', 'KSampler', 'KSamplerAdvanced', 'VAEDecode',
  'VAEEncode', 'VAELoader', 'LoraLoader', 'SaveImage', 'PreviewImage', 'LoadImage', 'LoadImageMask', 'ImageScale',
  'ImageInvert', 'EmptyImage', 'ImageBlur', 'ImageSharpen', 'MaskToImage', 'ImageCompositeMasked',
  'UpscaleModelLoader', 'ImageUpscaleWithModel', 'SaveAnimatedWEBP', 'SaveAnimatedPNG', 'SaveWEBM', 'SaveVideo',
  'SaveAudio', 'EmptyLatentAudio', 'VAEDecodeAudio', 'SaveImageWebsocket', 'PreviewAny',
];

/** Combo inputs whose options are a model folder's contents. */
const MODEL_INPUTS: Readonly<Record<string, string>> = {
  ckpt_name: 'checkpoints',
  lora_name: 'loras',
  vae_name: 'vae',
  model_name: 'upscale_models',
  control_net_name: 'controlnet',
  unet_name: 'diffusion_models',
  clip_name: 'text_encoders',
};

let recorded: ObjectInfo | undefined;

function recordedCatalogue(): ObjectInfo {
  if (!recorded) {
    const full = JSON.parse(readFileSync(`${FIXTURES}object_info.json`, 'utf8')) as ObjectInfo;
    const extra = JSON.parse(readFileSync(`${FIXTURES}extra-nodes.json`, 'utf8')) as ObjectInfo;
    recorded = { ...full, ...extra };
  }
  return recorded;
}

/** Is this input spec a combo (classic `[[...options]]` or v3 `["COMBO", {options}]`)? Returns its options. */
export function comboOptions(spec: InputSpec): unknown[] | undefined {
  if (Array.isArray(spec[0])) return spec[0] as unknown[];
  if (spec[0] === 'COMBO') {
    const options = spec[1]?.['options'];
    return Array.isArray(options) ? options : [];
  }
  return undefined;
}

function withModels(info: ObjectInfo, models: Record<string, string[]>): ObjectInfo {
  const patched: ObjectInfo = structuredClone(info);
  for (const node of Object.values(patched)) {
    for (const section of [node.input.required, node.input.optional]) {
      if (!section) continue;
      for (const [name, spec] of Object.entries(section)) {
        const folder = MODEL_INPUTS[name];
        if (folder === undefined || !Array.isArray(spec[0])) continue;
        section[name] = [[...(models[folder] ?? [])], spec[1] ?? {}];
      }
    }
  }
  return patched;
}

export function buildObjectInfo(
  choice: 'full' | 'core' | Record<string, unknown>,
  models: Record<string, string[]>,
): ObjectInfo {
  if (choice !== 'full' && choice !== 'core') return structuredClone(choice) as ObjectInfo;
  const all = recordedCatalogue();
  const selected =
    choice === 'full' ? all : Object.fromEntries(CORE_CLASSES.flatMap((name) => (all[name] ? [[name, all[name]]] : [])));
  return withModels(selected, models);
}

/** `LoadImage`'s combo lists the input folder, so it is computed per request. */
export function withInputFiles(info: ObjectInfo, inputFiles: string[]): ObjectInfo {
  const loadImage = info['LoadImage'];
  const spec = loadImage?.input.required?.['image'];
  if (!loadImage || !spec) return info;
  const patched = structuredClone(loadImage);
  patched.input.required = { ...patched.input.required, image: [[...inputFiles].sort(), spec[1] ?? {}] };
  return { ...info, LoadImage: patched };
}
