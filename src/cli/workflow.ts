// `comfycord workflow FILE.json --out DIR`: submit an API-format workflow, show progress, save its outputs.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { ComfyClient } from '../comfy/client.js';
import { ComfyV2Error, ComfyValidationError, failedNode } from '../comfy/errors.js';
import type { PromptRun } from '../comfy/prompt.js';
import { ComfyV2Client } from '../comfy/v2-client.js';
import { toApiWorkflow } from '../comfy/workflow.js';
import type { ApiWorkflow, NodeOutput, OutputFile, TerminalPromptEvent } from '../comfy/types.js';
import { ArgsError, parseArgs } from './args.js';
import type { CliIO } from './io.js';
import { serverFrom } from './server-options.js';
import { jsonLinesPrinter, terminalPrinter, type ProgressPrinter } from './progress.js';

const USAGE = 'usage: comfycord workflow FILE.json --out DIR [--server URL] [--api classic|v2] [--api-key KEY] [--json]';

/** A failure meant for the user: one line, no stack. */
class CliFailure extends Error {}

export async function run(argv: string[], io: CliIO): Promise<number> {
  let args;
  try {
    args = parseArgs(argv, { values: ['server', 'api-key', 'out', 'api'], flags: ['json', 'help'] });
  } catch (err) {
    if (!(err instanceof ArgsError)) throw err;
    io.stderr.write(`comfycord workflow: ${err.message}\n${USAGE}\n`);
    return 2;
  }
  if (args.flags.has('help')) {
    io.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const [file, ...extra] = args.positional;
  const outDir = args.values.get('out');
  if (!file || extra.length > 0 || !outDir) {
    io.stderr.write(`comfycord workflow: ${!file ? 'FILE.json is missing' : !outDir ? '--out DIR is missing' : `unexpected "${extra.join(' ')}"`}\n${USAGE}\n`);
    return 2;
  }
  const apiFlag = args.values.get('api');
  if (apiFlag !== undefined && apiFlag !== 'classic' && apiFlag !== 'v2') {
    io.stderr.write(`comfycord workflow: --api must be "classic" or "v2" (got "${apiFlag}")\n${USAGE}\n`);
    return 2;
  }
  const printer: ProgressPrinter = args.flags.has('json') ? jsonLinesPrinter(io.stdout) : terminalPrinter(io.stdout, io.stderr);
  const choice = serverFrom(args.values, io.env);
  const api = apiFlag ?? choice.api ?? 'classic';
  try {
    const workflow = await loadWorkflow(file);
    await execute(workflow, { server: choice.url, apiKey: choice.apiKey, api, outDir, printer });
    return 0;
  } catch (err) {
    printer.print({ type: 'error', message: failureMessage(err) });
    if (args.flags.has('json')) io.stderr.write(`comfycord workflow: ${failureMessage(err)}\n`);
    return 1;
  }
}

async function loadWorkflow(file: string): Promise<ApiWorkflow> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliFailure(code === 'ENOENT' ? `${file}: no such file` : `cannot read ${file}: ${code ?? String(err)}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new CliFailure(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  return toApiWorkflow(parsed);
}

interface ExecuteOptions {
  server: string;
  apiKey: string | undefined;
  api: 'classic' | 'v2';
  outDir: string;
  printer: ProgressPrinter;
}

/** What `execute` needs of a server, whichever API it speaks. */
interface Session {
  submit(workflow: ApiWorkflow): Promise<PromptRun>;
  download(run: PromptRun, outputs: Record<string, NodeOutput>): Promise<OutputFile[]>;
  close(): Promise<void>;
}

function session(options: ExecuteOptions): Session {
  const key = options.apiKey ? { apiKey: options.apiKey } : {};
  if (options.api === 'v2') {
    const client = new ComfyV2Client({ name: options.server, url: options.server, ...key });
    return {
      // One key per CLI run: a retry after an ambiguous failure inside submit reuses it.
      submit: (workflow) => client.submit(workflow, randomUUID()),
      download: (run, outputs) => client.downloadOutputs(run.promptId, outputs),
      close: () => client.close(),
    };
  }
  const client = new ComfyClient({ name: options.server, url: options.server, ...key });
  return {
    submit: async (workflow) => {
      await client.connect();
      return client.submit(workflow);
    },
    download: (_run, outputs) => client.downloadOutputs(outputs),
    close: () => client.close(),
  };
}

async function execute(workflow: ApiWorkflow, options: ExecuteOptions): Promise<void> {
  const { printer } = options;
  const client = session(options);
  try {
    const run = await client.submit(workflow);
    let terminal: TerminalPromptEvent | undefined;
    for await (const event of run) {
      if (event.type === 'queued') printer.print({ type: 'queued', prompt_id: event.promptId });
      else if (event.type === 'progress') printer.print({ type: 'progress', node: event.node, value: event.value, max: event.max });
      else if (event.type === 'preview') printer.print({ type: 'preview', mime: event.mime, bytes: event.bytes.length });
      else if (event.type === 'done' || event.type === 'failed' || event.type === 'interrupted') terminal = event;
    }
    if (!terminal) throw new CliFailure('the prompt ended without a result');
    if (terminal.type === 'interrupted') throw new CliFailure(`prompt ${run.promptId} was interrupted`);
    if (terminal.type === 'failed') {
      const reason = terminal.reason;
      if (reason.kind === 'execution') {
        const f = reason.failure;
        const node = failedNode(f);
        throw new CliFailure(`the workflow failed: ${node ? `${node}: ` : ''}${f.exceptionType}: ${f.exceptionMessage.trim().split('\n')[0] ?? ''}`);
      }
      throw new CliFailure(`the workflow failed: ${reason.message}`);
    }
    const files = await client.download(run, terminal.outputs);
    await mkdir(options.outDir, { recursive: true });
    for (const [file, name] of uniqueNames(files)) {
      const path = join(options.outDir, name);
      await writeFile(path, file.bytes);
      printer.print({ type: 'output', node: file.node, path });
    }
    printer.print({ type: 'done' });
  } finally {
    await client.close();
  }
}

/** Output files keep their server names; two nodes writing the same name get the node id in front. */
function uniqueNames(files: OutputFile[]): Array<[OutputFile, string]> {
  const used = new Set<string>();
  return files.map((file) => {
    let name = basename(file.ref.filename);
    if (used.has(name)) name = `${file.node}-${name}`;
    used.add(name);
    return [file, name];
  });
}

function failureMessage(err: unknown): string {
  if (err instanceof ComfyValidationError) return `the server rejected the workflow: ${err.describe().join('; ')}`;
  if (err instanceof ComfyV2Error && err.problems.length) return `the server rejected the workflow: ${err.describe().join('; ')}`;
  return err instanceof Error ? err.message : String(err);
}
