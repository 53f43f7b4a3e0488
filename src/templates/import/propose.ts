// Proposing a command for a converted workflow: which inputs become options, of which type, with which default,
// and why. The proposal only reads the graph and the server's node descriptions; writing it is the caller's job.
import type { NodeInfo } from '../../comfy/http.js';
import type { ApiNode, ApiWorkflow, NodeLink } from '../../comfy/types.js';
import type { OptionFile } from '../file-schema.js';
import { inputSpec } from '../server-info.js';
import { onStep } from '../values.js';
import { isLink } from '../workflow.js';
import { DYNAMIC_PROMPT, type Catalogue } from './convert.js';

export interface ProposedOption {
  option: OptionFile;
  /** One line saying what was recognised, for the proposal table. */
  why: string;
}

/** Model pickers: the input that names a file of a model folder, by class (or any class for the generic names). */
const MODEL_INPUTS: ReadonlyArray<{ input: string; classes?: readonly string[]; folder: string; name: string }> = [
  { input: 'ckpt_name', folder: 'checkpoints', name: 'model' },
  { input: 'unet_name', folder: 'diffusion_models', name: 'model' },
  { input: 'lora_name', folder: 'loras', name: 'lora' },
  { input: 'vae_name', folder: 'vae', name: 'vae' },
  { input: 'model_name', classes: ['UpscaleModelLoader'], folder: 'upscale_models', name: 'upscale-model' },
];
const IMAGE_LOADERS = new Set(['LoadImage', 'LoadImageMask']);
const SEED_INPUTS = ['seed', 'noise_seed'];
const UINT64_MAX = 18446744073709551615n;

export function proposeCommand(workflow: ApiWorkflow, catalogue: Catalogue): ProposedOption[] {
  const proposal = new Proposal(workflow, catalogue);
  for (const id of ids(workflow)) if (IMAGE_LOADERS.has(nodeOf(workflow, id).class_type)) proposal.image(id);
  const samplers = ids(workflow).filter((id) => isLink(nodeOf(workflow, id).inputs.positive) && isLink(nodeOf(workflow, id).inputs.negative));
  for (const id of samplers) proposal.prompts(id);
  for (const id of samplers) proposal.samplerSettings(id);
  for (const id of ids(workflow)) if (/^Empty.*Latent/.test(nodeOf(workflow, id).class_type)) proposal.latentSize(id);
  for (const id of ids(workflow)) proposal.models(id);
  // Discord lists required options first.
  return [...proposal.options.filter((entry) => entry.option.required), ...proposal.options.filter((entry) => !entry.option.required)];
}

class Proposal {
  readonly options: ProposedOption[] = [];
  private readonly targets = new Set<string>();

  constructor(
    private readonly workflow: ApiWorkflow,
    private readonly catalogue: Catalogue,
  ) {}

  image(id: string): void {
    if (typeof this.input(id, 'image') !== 'string') return;
    this.add({ name: 'image', type: 'image', required: true, description: 'The image to start from', target: this.target(id, 'image') }, `${this.label(id)} loads an image`);
  }

  prompts(sampler: string): void {
    for (const [side, name, description] of [
      ['positive', 'prompt', 'What to draw'],
      ['negative', 'negative', 'What to keep out of the image'],
    ] as const) {
      const source = this.textSource(this.input(sampler, side) as NodeLink);
      if (!source) continue;
      const option: OptionFile = { name, type: 'string', description, max_length: 2000, target: this.target(source.id, source.input) };
      if (side === 'positive') option.required = true;
      const dynamic = DYNAMIC_PROMPT.test(String(this.input(source.id, source.input))) ? '; its text uses dynamic-prompt syntax ({a|b}, //), sent as written' : '';
      this.add(option, `text of ${this.label(source.id)}, feeding the ${side} of ${this.label(sampler)}${dynamic}`);
    }
  }

  samplerSettings(id: string): void {
    const info = this.info(id);
    const node = nodeOf(this.workflow, id);
    const seedInput = SEED_INPUTS.find((input) => isInteger(node.inputs[input]));
    if (seedInput) {
      const spec = inputSpec(info, seedInput)?.[1] ?? {};
      const max = typeof spec.max === 'number' && spec.max >= 2 ** 63 ? UINT64_MAX : BigInt(Math.trunc(Number(spec.max ?? Number.MAX_SAFE_INTEGER)));
      this.add(
        { name: 'seed', type: 'integer', description: 'Same seed and settings give the same result', min: 0, max, default: 'random', target: this.target(id, seedInput) },
        `${this.label(id)} ${seedInput}; a fresh random seed per job unless one is given`,
      );
    }
    const steps = node.inputs.steps;
    if (isInteger(steps)) {
      const max = Math.max(100, Number(steps));
      this.add(
        { name: 'steps', type: 'integer', description: 'Sampling steps (more is slower)', min: 1, max, default: Number(steps), target: this.target(id, 'steps') },
        `${this.label(id)} steps (1 to ${max}, so one job cannot hold a GPU for long)`,
      );
    }
    const cfg = node.inputs.cfg;
    if (typeof cfg === 'number') {
      this.add(
        { name: 'cfg', type: 'number', description: 'How closely to follow the prompt', ...stepped(0, Math.max(30, cfg), 0.5, cfg), default: cfg, target: this.target(id, 'cfg') },
        `${this.label(id)} cfg`,
      );
    }
    for (const [input, name, description] of [
      ['sampler_name', 'sampler', 'Sampling method'],
      ['scheduler', 'scheduler', 'Noise schedule'],
    ] as const) {
      const value = node.inputs[input];
      if (typeof value !== 'string') continue;
      this.add(
        { name, type: 'choice', description, choices_from: `object_info/${node.class_type}/${input}`, default: value, target: this.target(id, input) },
        `${this.label(id)} ${input}, choices from the server's list`,
      );
    }
    const denoise = node.inputs.denoise;
    const latent = node.inputs.latent_image;
    if (typeof denoise === 'number' && isLink(latent) && !/^Empty/.test(this.workflow[latent[0]]?.class_type ?? 'Empty')) {
      this.add(
        { name: 'denoise', type: 'number', description: 'How much to change the image (0 keeps it, 1 replaces it)', ...stepped(0, 1, 0.05, denoise), default: denoise, target: this.target(id, 'denoise') },
        `${this.label(id)} denoise; its latent comes from an image (${this.label(latent[0])})`,
      );
    }
  }

  latentSize(id: string): void {
    const node = nodeOf(this.workflow, id);
    for (const [input, name, description, cap] of [
      ['width', 'width', 'Image width in pixels', 2048],
      ['height', 'height', 'Image height in pixels', 2048],
      ['batch_size', 'batch', 'How many images per job', 4],
    ] as const) {
      const value = node.inputs[input];
      if (!isInteger(value)) continue;
      const min = Number(inputSpec(this.info(id), input)?.[1]?.min ?? 1);
      const max = Math.max(cap, Number(value));
      this.add({ name, type: 'integer', description, min, max, default: Number(value), target: this.target(id, input) }, `${this.label(id)} ${input} (${min} to ${max})`);
    }
  }

  models(id: string): void {
    const node = nodeOf(this.workflow, id);
    for (const picker of MODEL_INPUTS) {
      if (picker.classes && !picker.classes.includes(node.class_type)) continue;
      if (typeof node.inputs[picker.input] !== 'string') continue;
      this.add(
        { name: picker.name, type: 'choice', description: `Which file of models/${picker.folder} to use`, choices_from: `models/${picker.folder}`, target: this.target(id, picker.input) },
        `${this.label(id)} ${picker.input}; the template's file unless another is picked`,
      );
    }
  }

  /** The node and input holding the text that ends up in a conditioning link: the nearest text input upstream. */
  private textSource(link: NodeLink): { id: string; input: string } | undefined {
    const queue = [link[0]];
    const seen = new Set<string>();
    while (queue.length > 0) {
      const id = queue.shift() as string;
      if (seen.has(id) || !this.workflow[id]) continue;
      seen.add(id);
      const node = nodeOf(this.workflow, id);
      const info = this.catalogue[node.class_type];
      const text = Object.keys(node.inputs).find((input) => {
        const spec = info && inputSpec(info, input);
        return typeof node.inputs[input] === 'string' && spec?.[0] === 'STRING';
      });
      if (text) return { id, input: text };
      for (const value of Object.values(node.inputs)) if (isLink(value)) queue.push(value[0]);
    }
    return undefined;
  }

  /** Adds the option once per target; a second option of the same name gets a number ("lora-2"). */
  private add(option: OptionFile, why: string): void {
    const target = 'target' in option ? option.target : undefined;
    if (target !== undefined) {
      if (this.targets.has(target)) return;
      this.targets.add(target);
    }
    const taken = new Set(this.options.map((entry) => entry.option.name));
    let name = option.name;
    for (let n = 2; taken.has(name); n++) name = `${option.name}-${n}`;
    this.options.push({ option: { ...option, name }, why });
  }

  /** `<title>.<input>` when the title names only this node, else `<id>.<input>`. */
  private target(id: string, input: string): string {
    const title = this.workflow[id]?._meta?.title;
    const unique = title !== undefined && title !== '' && !Object.hasOwn(this.workflow, title) && Object.values(this.workflow).filter((node) => node._meta?.title === title).length === 1;
    return `${unique ? title : id}.${input}`;
  }

  private label(id: string): string {
    const node = nodeOf(this.workflow, id);
    return node._meta?.title && node._meta.title !== node.class_type ? `"${node._meta.title}" (${node.class_type})` : node.class_type;
  }

  private input(id: string, input: string): unknown {
    return nodeOf(this.workflow, id).inputs[input];
  }

  private info(id: string): NodeInfo {
    return this.catalogue[nodeOf(this.workflow, id).class_type] ?? { input: {}, output: [], name: '' };
  }
}

/** `min`/`max` and a step, unless the template's value is off that step (then any value in range is allowed). */
function stepped(min: number, max: number, step: number, value: number): { min: number; max: number; step?: number } {
  return onStep(value, min, step) ? { min, max, step } : { min, max };
}

function isInteger(value: unknown): boolean {
  return (typeof value === 'number' && Number.isInteger(value)) || (typeof value === 'string' && /^\d+$/.test(value));
}

function ids(workflow: ApiWorkflow): string[] {
  return Object.keys(workflow);
}

function nodeOf(workflow: ApiWorkflow, id: string): ApiNode {
  return workflow[id] as ApiNode;
}
