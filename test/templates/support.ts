// Building commands from inline YAML and workflows, for the templates tests.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { ApiWorkflow } from '../../src/comfy/types.js';
import { compileCommand, parseCommandFile } from '../../src/templates/compile.js';
import type { CommandDefinition } from '../../src/templates/definition.js';
import type { Problem } from '../../src/templates/errors.js';
import type { ServerInfo } from '../../src/templates/server-info.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A small text-to-image graph with titles, one repeated class and one repeated title. */
export function sampleWorkflow(): ApiWorkflow {
  return {
    '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'sd15.safetensors' }, _meta: { title: 'Load Checkpoint' } },
    '5': { class_type: 'EmptyLatentImage', inputs: { width: 512, height: 512, batch_size: 1 }, _meta: { title: 'Empty Latent Image' } },
    '6': { class_type: 'CLIPTextEncode', inputs: { text: 'a cat', clip: ['4', 1] }, _meta: { title: 'Positive Prompt' } },
    '7': { class_type: 'CLIPTextEncode', inputs: { text: '', clip: ['4', 1] }, _meta: { title: 'Negative Prompt' } },
    '3': {
      class_type: 'KSampler',
      inputs: { seed: 0, steps: 20, cfg: 7, sampler_name: 'euler', scheduler: 'normal', denoise: 1, model: ['4', 0], positive: ['6', 0], negative: ['7', 0], latent_image: ['5', 0] },
      _meta: { title: 'KSampler' },
    },
    '8': { class_type: 'VAEDecode', inputs: { samples: ['3', 0], vae: ['4', 2] }, _meta: { title: 'VAE Decode' } },
    '10': { class_type: 'LoadImage', inputs: { image: 'example.png' }, _meta: { title: 'Load Image' } },
    '9': { class_type: 'SaveImage', inputs: { images: ['8', 0], filename_prefix: 'out' }, _meta: { title: 'Save Image' } },
    '11': { class_type: 'PreviewImage', inputs: { images: ['10', 0] }, _meta: { title: 'Save Image' } },
  };
}

export type Compiled = { ok: true; value: CommandDefinition } | { ok: false; problems: Problem[] };

function compileYaml(yaml: string, workflow: ApiWorkflow = sampleWorkflow()): Compiled {
  const parsed = parseCommandFile('test.yml', yaml);
  return parsed.ok ? compileCommand('test.yml', parsed.value, workflow) : parsed;
}

/** A command that must compile; fails the test with the problems otherwise. */
export function command(yaml: string, workflow?: ApiWorkflow): CommandDefinition {
  const result = compileYaml(yaml, workflow);
  if (!result.ok) throw new Error(`expected the command to compile: ${JSON.stringify(result.problems)}`);
  return result.value;
}

/** The problems of a command that must not compile. */
export function problemsOf(yaml: string, workflow?: ApiWorkflow): Problem[] {
  const result = compileYaml(yaml, workflow);
  if (result.ok) throw new Error('expected problems, the command compiled');
  return result.problems;
}

/** Combo inputs whose options are a model folder's files (a real server fills them from disk). */
const MODEL_INPUTS: Record<string, string> = { ckpt_name: 'checkpoints', model_name: 'upscale_models', lora_name: 'loras' };

/** The recorded object_info plus the fixture's extra nodes, served from memory with the given model folders. */
export function recordedServer(models: Record<string, string[]>): ServerInfo & { asked: string[] } {
  const dir = `${ROOT}test/fixtures/comfyui/`;
  const info = {
    ...(JSON.parse(readFileSync(`${dir}object_info.json`, 'utf8')) as Record<string, unknown>),
    ...(JSON.parse(readFileSync(`${dir}extra-nodes.json`, 'utf8')) as Record<string, unknown>),
  };
  for (const node of Object.values(info) as Array<{ input: { required?: Record<string, unknown[]> } }>) {
    for (const [input, spec] of Object.entries(node.input.required ?? {})) {
      const folder = MODEL_INPUTS[input];
      if (folder && Array.isArray(spec[0])) spec[0] = models[folder] ?? [];
    }
  }
  const asked: string[] = [];
  return {
    asked,
    objectInfo: async (nodeClass) => {
      asked.push(nodeClass);
      return Object.hasOwn(info, nodeClass) ? { [nodeClass]: info[nodeClass] } : {};
    },
    models: async (folder) => {
      const files = models[folder];
      if (!files) throw new Error(`HTTP 404: there is no model folder "${folder}"`);
      return files;
    },
  };
}

/** A port nothing listens on: bound, then released. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
