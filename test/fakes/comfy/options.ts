// The knobs of the fake ComfyUI and their defaults.

/**
 * - `v0.3.64`: the server the transcripts were recorded from.
 * - `new`: late-2026 ComfyUI: `/api/jobs`, canonical-UUID `prompt_id`, `missing_node_type`.
 * - `cloud`: Comfy Cloud: `/api/` only, `X-API-Key`, `/api/view` redirects to a signed URL.
 * - `legacy`: before July 2025: no feature flags, no `progress_state`, client `prompt_id` ignored, interrupt global.
 */
export type FakeProfile = 'v0.3.64' | 'new' | 'cloud' | 'legacy';

export interface FakeComfyOptions {
  profile?: FakeProfile;
  /** cloud: the key every request must carry (`X-API-Key`, or `?token=` on the WebSocket). */
  apiKey?: string;
  /** Model folder → file names; replaces the defaults folder by folder. */
  models?: Record<string, string[]>;
  /** `full` = the recorded object_info; `core` = the handful of classes the project's templates use. */
  objectInfo?: 'full' | 'core' | Record<string, unknown>;
  previewMethod?: 'auto' | 'none';
  /** Real time spent per node and per sampler step. */
  stepDelayMs?: number;
  samplerSteps?: 'from-workflow' | number;
  /** Serve the ComfyUI-Manager routes. */
  manager?: boolean;
  /** Request body limit in bytes (ComfyUI's `--max-upload-size`, default 100 MB). */
  maxBodyBytes?: number;
  /** History entries kept before the oldest are evicted (ComfyUI's MAXIMUM_HISTORY_SIZE, 10000). */
  maxHistory?: number;
  /**
   * zlib level of the PNGs the image output nodes write (default 6). The fake's pixels are flat colours, which
   * compress to almost nothing; 0 stores them raw, so an output weighs width × height × 3 bytes as a real
   * photograph would: the way to test uploads of many megabytes.
   */
  pngCompressionLevel?: number;
}

export interface ResolvedOptions {
  profile: FakeProfile;
  apiKey: string | undefined;
  models: Record<string, string[]>;
  objectInfo: 'full' | 'core' | Record<string, unknown>;
  previewMethod: 'auto' | 'none';
  stepDelayMs: number;
  samplerSteps: 'from-workflow' | number;
  manager: boolean;
  maxBodyBytes: number;
  maxHistory: number;
  pngCompressionLevel: number;
}

const DEFAULT_MODELS: Readonly<Record<string, string[]>> = {
  checkpoints: ['sd15.safetensors', 'sdxl.safetensors'],
  configs: [],
  loras: ['detail.safetensors', 'style.safetensors'],
  vae: ['sdxl_vae.safetensors'],
  text_encoders: [],
  diffusion_models: [],
  clip_vision: [],
  style_models: [],
  embeddings: ['easynegative.safetensors'],
  diffusers: [],
  vae_approx: [],
  controlnet: [],
  gligen: [],
  upscale_models: ['4x-UltraSharp.pth'],
  custom_nodes: [],
  hypernetworks: [],
  photomaker: [],
  classifiers: [],
  model_patches: [],
  audio_encoders: [],
};

export function resolveOptions(options: FakeComfyOptions): ResolvedOptions {
  const profile = options.profile ?? 'v0.3.64';
  if (profile === 'cloud' && !options.apiKey) {
    throw new Error("startFakeComfy: profile 'cloud' needs an apiKey");
  }
  if (options.stepDelayMs !== undefined && !(options.stepDelayMs >= 0)) {
    throw new Error(`startFakeComfy: stepDelayMs must be >= 0, got ${options.stepDelayMs}`);
  }
  if (typeof options.samplerSteps === 'number' && !(Number.isInteger(options.samplerSteps) && options.samplerSteps > 0)) {
    throw new Error(`startFakeComfy: samplerSteps must be a positive integer, got ${options.samplerSteps}`);
  }
  if (options.maxHistory !== undefined && !(Number.isInteger(options.maxHistory) && options.maxHistory > 0)) {
    throw new Error(`startFakeComfy: maxHistory must be a positive integer, got ${options.maxHistory}`);
  }
  if (options.pngCompressionLevel !== undefined && !(Number.isInteger(options.pngCompressionLevel) && options.pngCompressionLevel >= 0 && options.pngCompressionLevel <= 9)) {
    throw new Error(`startFakeComfy: pngCompressionLevel must be an integer from 0 to 9, got ${options.pngCompressionLevel}`);
  }
  return {
    profile,
    apiKey: options.apiKey,
    models: { ...DEFAULT_MODELS, ...options.models },
    objectInfo: options.objectInfo ?? 'full',
    previewMethod: options.previewMethod ?? 'auto',
    stepDelayMs: options.stepDelayMs ?? 0,
    samplerSteps: options.samplerSteps ?? 'from-workflow',
    manager: options.manager ?? false,
    maxBodyBytes: options.maxBodyBytes ?? 100 * 1024 * 1024,
    maxHistory: options.maxHistory ?? 10_000,
    pngCompressionLevel: options.pngCompressionLevel ?? 6,
  };
}
