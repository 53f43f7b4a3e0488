// `comfycord check`: validates every command file and template, offline, and with --server also against a live
// ComfyUI's node catalogue and model folders. Exit code 0 only when every command passes.
import path from 'node:path';
import { ComfyHttp } from '../comfy/http.js';
import { checkAgainstServer, modelUsesOn, type ModelUse } from '../templates/live-check.js';
import { checkUnusedTemplates, loadCommands, type Directories } from '../templates/load.js';
import { problemText, type Problem } from '../templates/errors.js';
import type { ServerInfo } from '../templates/server-info.js';
import { ArgsError, parseArgs, type ParsedArgs } from './args.js';
import type { CliIO } from './io.js';
import { configuredServer, type ServerChoice } from './server-options.js';

const HELP = `Usage: comfycord check [--server URL | --offline] [--api-key KEY] [--commands-dir DIR] [--templates-dir DIR] [--json]

Checks every command file (commands/*.yml), the template it names, and the other templates (templates/*.json).
Offline unless a server is named: by --server, or else by COMFY_URL (the server the bot would use).
  --server URL         also check against a running ComfyUI: node classes, input names, values, models; and
                       print the model each model option with a prefer/else default will use there
  --offline            do not contact a server, even when COMFY_URL is set
  --api-key KEY        API key for the server (Comfy Cloud); default: $COMFY_API_KEY
  --commands-dir DIR   default: $COMFYCORD_COMMANDS_DIR or commands
  --templates-dir DIR  default: $COMFYCORD_TEMPLATES_DIR or templates
  --json               print the results as JSON
Exit code 0 when every command passes, 1 otherwise.
`;

export interface CheckResult {
  /** The command name, or the file name when the file could not be read as a command. */
  command: string;
  file: string;
  status: 'ok' | 'failed';
  problems: string[];
  /** With a server: the model each option with a preference default uses there when a member picks none. */
  uses?: ModelUse[];
}

/** --commands-dir / --templates-dir, else COMFYCORD_COMMANDS_DIR / COMFYCORD_TEMPLATES_DIR (as the bot), else the defaults. */
export function directories(values: ReadonlyMap<string, string>, env: NodeJS.ProcessEnv): Directories {
  return {
    commandsDir: values.get('commands-dir') ?? (env.COMFYCORD_COMMANDS_DIR?.trim() || 'commands'),
    templatesDir: values.get('templates-dir') ?? (env.COMFYCORD_TEMPLATES_DIR?.trim() || 'templates'),
  };
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  const args = parseArgs(argv, { values: ['server', 'api-key', 'commands-dir', 'templates-dir'], flags: ['json', 'help', 'offline'] });
  if (args.flags.has('help')) {
    io.stdout.write(HELP);
    return 0;
  }
  if (args.positional.length > 0) {
    io.stderr.write(`comfycord check: unexpected argument "${args.positional[0]}"\n${HELP}`);
    return 2;
  }
  const server = discoveryServer(liveServer(args, io.env), io);
  const dirs = directories(args.values, io.env);
  const loaded = await loadCommands(dirs);
  const problems = [...loaded.problems, ...(await checkUnusedTemplates(dirs.templatesDir, loaded.templates))];
  const uses = new Map<string, ModelUse[]>();
  if (server !== undefined) {
    const info = cachedServerInfo(new ComfyHttp({ name: 'check', url: server.url, ...(server.apiKey !== undefined && { apiKey: server.apiKey }) }));
    for (const command of loaded.commands.values()) {
      try {
        problems.push(...(await checkAgainstServer(command, info)));
        uses.set(command.file, await modelUsesOn(command, info));
      } catch (error) {
        problems.push({ file: command.file, message: `could not check against ${server.url}: ${(error as Error).message}` });
      }
    }
  }
  const results = summarise(loaded.files, loaded.commands, problems, uses);
  const failed = results.filter((result) => result.status === 'failed').length;
  if (args.flags.has('json')) io.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  else {
    io.stdout.write(renderTable(results));
    if (server !== undefined) io.stdout.write(renderUses(results, server.url));
    const where = server === undefined ? 'offline' : `against ${server.url}`;
    const total = results.length;
    io.stdout.write(failed === 0 ? `\nAll ${total} command(s) pass (${where}).\n` : `\n${failed} of ${total} command(s) failed (${where}).\n`);
  }
  return failed === 0 && results.length > 0 ? 0 : 1;
}

/** The server to check against, or undefined for an offline check. */
function liveServer(args: ParsedArgs, env: NodeJS.ProcessEnv): ServerChoice | undefined {
  if (args.flags.has('offline')) {
    if (args.values.has('server')) throw new ArgsError('--offline and --server contradict each other');
    if (args.values.has('api-key')) throw new ArgsError('--api-key has no use with --offline');
    return undefined;
  }
  const server = configuredServer(args.values, env);
  if (server === undefined && args.values.has('api-key')) throw new ArgsError('--api-key needs a server: give --server URL or set COMFY_URL');
  return server;
}

/**
 * A v2 endpoint has no node discovery: its nodes are checked on the ComfyUI behind it when COMFY_URL names one
 * (`v2:URL|COMFYUI_URL`), otherwise not at all, and the check says so.
 */
function discoveryServer(server: ServerChoice | undefined, io: CliIO): ServerChoice | undefined {
  if (server?.api !== 'v2') return server;
  if (server.classicUrl !== undefined) return { url: server.classicUrl };
  io.stderr.write(
    `comfycord check: ${server.url} is a Comfy API v2 endpoint, which cannot list its nodes and models: they are not checked (name the ComfyUI behind it as COMFY_URL=v2:${server.url}|http://…:8188 to check them)\n`,
  );
  return undefined;
}

/** Each node class and model folder is asked for once, however many commands use it. */
function cachedServerInfo(http: ComfyHttp): ServerInfo {
  const infos = new Map<string, Promise<unknown>>();
  const models = new Map<string, Promise<string[]>>();
  const once = <T>(cache: Map<string, Promise<T>>, key: string, load: () => Promise<T>): Promise<T> => {
    let hit = cache.get(key);
    if (!hit) cache.set(key, (hit = load()));
    return hit;
  };
  return {
    objectInfo: (nodeClass) => once(infos, nodeClass, () => http.objectInfoFor(nodeClass)),
    models: (folder) => once(models, folder, () => http.models(folder)),
  };
}

function summarise(
  files: readonly string[],
  commands: ReadonlyMap<string, { name: string; file: string }>,
  problems: readonly Problem[],
  uses: ReadonlyMap<string, ModelUse[]>,
): CheckResult[] {
  const nameOf = new Map([...commands.values()].map((command) => [command.file, command.name]));
  const keys = [...files, ...problems.map((problem) => problem.file).filter((file) => !files.includes(file))];
  return [...new Set(keys)].map((file) => {
    const own = problems.filter((problem) => problem.file === file);
    return {
      command: nameOf.get(file) ?? path.basename(file),
      file,
      status: own.length === 0 ? 'ok' : 'failed',
      problems: own.map(problemText),
      ...(uses.has(file) && { uses: uses.get(file) }),
    };
  });
}

/** "imagine: model → dreamshaper_8.safetensors (first listed; none of v1-5-pruned-emaonly.safetensors present)" */
function renderUses(results: readonly CheckResult[], url: string): string {
  const lines = results.flatMap((result) => (result.uses ?? []).map((use) => `  ${result.command}: ${use.option} → ${use.value} (${use.reason})`));
  return lines.length === 0 ? '' : `\nModels used on ${url} when a member picks none:\n${lines.join('\n')}\n`;
}

function renderTable(results: readonly CheckResult[]): string {
  if (results.length === 0) return 'No command files found.\n';
  const rows = results.flatMap((result) => {
    const lines = result.problems.length > 0 ? result.problems : ['-'];
    return lines.map((problem, index) => (index === 0 ? [result.command, result.status, problem] : ['', '', problem]));
  });
  const header = ['command', 'status', 'problems'];
  const width = [0, 1].map((column) => Math.max(header[column]!.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]): string => `${cells[0]!.padEnd(width[0]!)} | ${cells[1]!.padEnd(width[1]!)} | ${cells[2]}`.trimEnd();
  return [line(header), `${'-'.repeat(width[0]!)}-+-${'-'.repeat(width[1]!)}-+-${'-'.repeat(8)}`, ...rows.map(line)].join('\n') + '\n';
}
