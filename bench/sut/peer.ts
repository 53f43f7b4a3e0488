// The peer benchmark's process: one ComfyUI client library (comfycord's ComfyClient or @saintno/comfyui-sdk, only
// the chosen one is loaded) runs the same prompts against the fake ComfyUI, downloading each prompt's outputs.
import type { ApiWorkflow } from '../../src/comfy/types.js';
import { cpuSince, maxRss, now, serve, type ProcessFigures } from '../ipc.js';

export type PeerName = 'comfycord' | 'saintno';

/** What each library is asked to do for one prompt: run it to the end, count previews, fetch the outputs. */
export interface PeerClient {
  runPrompt(workflow: ApiWorkflow): Promise<{ previews: number; outputs: number }>;
  close(): Promise<void>;
}

export interface PeerParams {
  library: PeerName;
  url: string;
  workflows: ApiWorkflow[];
  concurrency: number;
  /** A prompt not finished this long after submission counts as missed. */
  timeoutMs: number;
}

export type PromptOutcome = { kind: 'done'; previews: number; outputs: number } | { kind: 'failed'; message: string } | { kind: 'missed' };

export interface PeerReport extends ProcessFigures {
  outcomes: { submittedAt: number; settledAt: number; outcome: PromptOutcome }[];
  wallMs: number;
}

let client: PeerClient | undefined;

async function connect(library: PeerName, url: string): Promise<PeerClient> {
  if (library === 'comfycord') return (await import('./peer-comfycord.js')).connectComfycord(url);
  return (await import('./peer-saintno.js')).connectSaintno(url);
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | 'missed'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'missed'>((resolve) => {
    timer = setTimeout(() => resolve('missed'), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function run(p: PeerParams): Promise<PeerReport> {
  client = await connect(p.library, p.url);
  const c = client;
  const outcomes: PeerReport['outcomes'] = new Array(p.workflows.length);
  const cpuStart = process.cpuUsage();
  const started = now();
  let next = 0;
  const worker = async () => {
    while (next < p.workflows.length) {
      const index = next++;
      const submittedAt = now();
      let outcome: PromptOutcome;
      try {
        const result = await withTimeout(c.runPrompt(p.workflows[index]!), p.timeoutMs);
        outcome = result === 'missed' ? { kind: 'missed' } : { kind: 'done', ...result };
      } catch (error) {
        outcome = { kind: 'failed', message: error instanceof Error ? error.message : String(error) };
      }
      outcomes[index] = { submittedAt, settledAt: now(), outcome };
    }
  };
  await Promise.all(Array.from({ length: p.concurrency }, worker));
  return { outcomes, wallMs: now() - started, ...cpuSince(cpuStart), maxRssBytes: maxRss() };
}

serve({ run: (p: PeerParams) => run(p) }, async () => {
  await client?.close();
});
