// `comfycord run`: runs one command the way the bot does — same loading, binding, validation, image checks,
// scheduling, upload and download code — without Discord, writing the outputs to a directory.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { ComfyClient } from '../comfy/client.js';
import { createLogger } from '../config/logger.js';
import { limitsSchema } from '../config/schema.js';
import type { JobImage } from '../jobs/job.js';
import { inspectImageInput } from '../media/input.js';
import { extensionFor } from '../media/sniff.js';
import { ComfyBackend } from '../scheduler/comfy-backend.js';
import { UnavailableError } from '../scheduler/errors.js';
import { LimitError } from '../scheduler/limits.js';
import { Scheduler } from '../scheduler/scheduler.js';
import type { CommandDefinition } from '../templates/definition.js';
import { OptionError } from '../templates/errors.js';
import { loadCommands } from '../templates/load.js';
import { prepareJob, type PreparedJob } from '../templates/prepare.js';
import { parseArgs } from './args.js';
import { directories } from './check.js';
import type { CliIO } from './io.js';
import { serverFrom } from './server-options.js';

const HELP = `Usage: comfycord run COMMAND [name=value ...] [--image PATH] --out DIR [--server URL] [--api-key KEY]
                     [--commands-dir DIR] [--templates-dir DIR] [--timeout SECONDS] [--json]

Runs one command file against ComfyUI exactly as the bot would, and writes its outputs to DIR.
  name=value      an option of the command; for image options the value is a file path
  --image PATH    the image for the command's only image option
  --server URL    default: $COMFY_URL, else http://127.0.0.1:8188
  --api-key KEY   API key for the server (Comfy Cloud); default: $COMFY_API_KEY
  --commands-dir, --templates-dir   as for comfycord check
  --timeout S     give up after S seconds (default 1800)
  --json          print the result as JSON
Exit code 0 when the job succeeded, 1 when it failed, 2 for a mistake on the command line.
`;

/** What an attachment may be in the bot too: 25 MB, 16 megapixels, stills only. */
const IMAGE_LIMITS = { maxBytes: 25 * 1024 * 1024, maxPixels: 16 * 1024 * 1024 };

class UsageError extends Error {}

export async function run(argv: string[], io: CliIO): Promise<number> {
  const args = parseArgs(argv, {
    values: ['image', 'out', 'server', 'api-key', 'commands-dir', 'templates-dir', 'timeout'],
    flags: ['json', 'help'],
    pairs: true,
  });
  if (args.flags.has('help')) {
    io.stdout.write(HELP);
    return 0;
  }
  try {
    return await runOne(args, io);
  } catch (error) {
    if (error instanceof UsageError || error instanceof OptionError) {
      io.stderr.write(`comfycord run: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

async function runOne(args: ReturnType<typeof parseArgs>, io: CliIO): Promise<number> {
  const [name, ...extra] = args.positional;
  if (name === undefined) throw new UsageError(`which command?\n${HELP}`);
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}" (options are name=value)`);
  const out = args.values.get('out');
  if (out === undefined) throw new UsageError('--out DIR is required');
  const timeoutSeconds = Number(args.values.get('timeout') ?? 1800);
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds <= 0) throw new UsageError('--timeout must be a whole number of seconds');
  const { url: server, apiKey } = serverFrom(args.values, io.env);

  const loaded = await loadCommands(directories(args.values, io.env));
  const command = loaded.commands.get(name);
  if (!command) {
    const why = loaded.problems.find((problem) => path.basename(problem.file, path.extname(problem.file)) === name);
    const known = [...loaded.commands.keys()].join(', ') || 'none';
    if (!why) throw new UsageError(`no command "${name}" (loaded: ${known})`);
    throw new UsageError(`/${name} is broken: ${why.option ? `option "${why.option}": ` : ''}${why.message}`);
  }
  const raw: Record<string, unknown> = Object.fromEntries(args.pairs);
  const only = imageOptionFor(command, args.values.get('image'));
  if (only) raw[only.option] = only.path;
  const prepared = prepareJob(command, raw);
  const images = await readImages(prepared);

  const toStderr = new Writable({
    write(chunk: Buffer, _encoding, done) {
      io.stderr.write(chunk.toString());
      done();
    },
  });
  const logger = createLogger({ level: 'warn', destination: toStderr, secrets: [apiKey] });
  const client = new ComfyClient({ name: 'cli', url: server, logger, ...(apiKey !== undefined && { apiKey }) });
  const backend = new ComfyBackend({ client, logger });
  await backend.start();
  const scheduler = new Scheduler({ backends: [backend], limits: limitsSchema.parse({}), maxTries: 1, timeoutSeconds, logger });
  try {
    if (!backend.healthy) {
      io.stderr.write(`comfycord run: cannot reach ComfyUI at ${server}\n`);
      return 1;
    }
    return await submitAndSave(scheduler, command, prepared, images, out, args.flags.has('json'), io);
  } finally {
    scheduler.close();
    await backend.stop();
  }
}

/** `--image PATH` fills the command's single image option. */
function imageOptionFor(command: CommandDefinition, file: string | undefined): { option: string; path: string } | undefined {
  if (file === undefined) return undefined;
  const options = command.options.filter((option) => option.type === 'image');
  if (options.length !== 1) {
    if (options.length === 0) throw new UsageError(`/${command.name} takes no image`);
    throw new UsageError(`/${command.name} has several images: give them as ${options.map((o) => `${o.name}=PATH`).join(' ')}`);
  }
  return { option: (options[0] as { name: string }).name, path: file };
}

/** Image values are file paths here; they pass the same checks as Discord attachments. */
async function readImages(prepared: PreparedJob): Promise<JobImage[]> {
  const images: JobImage[] = [];
  for (const image of prepared.images) {
    const file = String(image.ref);
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch (error) {
      const why = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      throw new OptionError(image.option, `${image.option}: cannot read ${file} (${why})`);
    }
    const checked = await inspectImageInput(bytes, IMAGE_LIMITS);
    if (!checked.ok) throw new OptionError(image.option, `${image.option}: ${checked.reason}`);
    // The media checks may re-encode an input (a rotated photo becomes an upright JPEG): the name says what it is.
    const filename = `${path.basename(file, path.extname(file))}.${extensionFor(checked.mime) ?? 'png'}`;
    images.push({ option: image.option, filename, bytes: checked.bytes, target: image.target });
  }
  return images;
}

async function submitAndSave(
  scheduler: Scheduler,
  command: CommandDefinition,
  prepared: PreparedJob,
  images: JobImage[],
  out: string,
  json: boolean,
  io: CliIO,
): Promise<number> {
  let job: ReturnType<Scheduler['submit']>;
  try {
    job = scheduler.submit({
      owner: { userId: 'cli', guildId: null, roles: [] },
      command: command.name,
      workflow: prepared.workflow,
      params: prepared.params,
      ...(prepared.choices.length > 0 ? { choices: prepared.choices } : {}),
      images,
      outputs: prepared.outputs,
      commandLimits: command.limits,
    });
  } catch (error) {
    // Refusals a Discord user would see as a reply: no backend can run it, or a limit.
    if (!(error instanceof UnavailableError || error instanceof LimitError)) throw error;
    io.stderr.write(`/${command.name} refused: ${error.message}\n`);
    return 1;
  }
  if (!json) {
    job.on('state', (change) => io.stderr.write(`${change.state}${change.error ? `: ${change.error}` : ''}\n`));
    job.on('progress', (progress) => io.stderr.write(`  ${progress.nodeTitle ?? 'step'} ${progress.value}/${progress.max}\n`));
  }
  const state = await job.done;
  const written: Array<{ path: string; mime: string; bytes: number; node: string }> = [];
  if (state === 'succeeded') {
    await mkdir(out, { recursive: true });
    const used = new Set<string>();
    for (const file of job.outputs ?? []) {
      const target = path.join(out, uniqueName(path.basename(file.ref.filename) || `output-${file.node}`, used));
      await writeFile(target, file.bytes);
      written.push({ path: target, mime: file.mime, bytes: file.bytes.length, node: file.node });
    }
  }
  if (json) {
    // The job's params: a model left to the command's preference is the one chosen on the server.
    const result = { command: command.name, state, params: job.params, promptId: job.promptId, error: job.error, files: written };
    io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } else if (state === 'succeeded') {
    const lines = written.map((file) => `wrote ${file.path} (${file.mime}, ${file.bytes} bytes)`);
    io.stdout.write(`/${command.name} ${formatParams(job.params)}\n${lines.join('\n')}\n`);
  } else {
    io.stderr.write(`/${command.name} ${state}${job.error ? `: ${job.error}` : ''}\n`);
  }
  return state === 'succeeded' ? 0 : 1;
}

function uniqueName(name: string, used: Set<string>): string {
  let candidate = name;
  for (let n = 2; used.has(candidate); n++) candidate = `${path.basename(name, path.extname(name))}-${n}${path.extname(name)}`;
  used.add(candidate);
  return candidate;
}

function formatParams(params: Record<string, unknown>): string {
  return Object.entries(params)
    .map(([key, value]) => `${key}=${typeof value === 'string' && /\s/.test(value) ? JSON.stringify(value) : String(value)}`)
    .join(' ');
}
