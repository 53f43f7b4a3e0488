// `comfycord import FILE`: converts a saved ComfyUI workflow (UI or API format) with the server's node
// descriptions, proposes a command for it, and with --write saves templates/NAME.json and commands/NAME.yaml and
// checks them as `comfycord check` would. Bad input gets one line per problem and nothing is written.
import { access, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ComfyHttp } from '../comfy/http.js';
import { compileCommand, parseCommandFile } from '../templates/compile.js';
import { commandFileText, commandNameFrom, isCommandName, MAX_OPTIONS, templateText } from '../templates/import/command-file.js';
import { convertWorkflow, ImportError, type Catalogue, type Conversion } from '../templates/import/convert.js';
import { JsonSyntaxError, parseExactJson } from '../templates/import/exact-json.js';
import { proposeCommand, type ProposedOption } from '../templates/import/propose.js';
import { checkAgainstServer } from '../templates/live-check.js';
import type { ServerInfo } from '../templates/server-info.js';
import { parseApiWorkflow, isRecord } from '../templates/workflow.js';
import { ArgsError, parseArgs } from './args.js';
import { directories } from './check.js';
import type { CliIO } from './io.js';
import { configuredServer, type ServerChoice } from './server-options.js';

const HELP = `Usage: comfycord import FILE [--server URL | --object-info FILE] [--api-key KEY] [--name NAME] [--write]
                        [--commands-dir DIR] [--templates-dir DIR]

Converts a saved ComfyUI workflow (the ordinary "Save" file, or an API export) to the API format, using the node
descriptions of a running ComfyUI (--server, else COMFY_URL) or of a saved copy of its /object_info
(--object-info), and proposes a command for it: prompts, seed, steps, cfg, sampler, size, models, images.
  --name NAME          the command's name (default: from the file name)
  --write              write templates/NAME.json and commands/NAME.yaml, then check them
  --commands-dir DIR   default: $COMFYCORD_COMMANDS_DIR or commands
  --templates-dir DIR  default: $COMFYCORD_TEMPLATES_DIR or templates
Exit code 0 when the workflow converts (and, with --write, the written command passes the check), 1 otherwise.
`;

/** A problem with the input that ends the command; each line is printed as it is. */
class ImportFailure extends Error {
  constructor(readonly lines: string[]) {
    super(lines.join('\n'));
  }
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  const args = parseArgs(argv, {
    values: ['server', 'object-info', 'api-key', 'name', 'commands-dir', 'templates-dir'],
    flags: ['write', 'help'],
  });
  if (args.flags.has('help')) {
    io.stdout.write(HELP);
    return 0;
  }
  const [file, ...extra] = args.positional;
  if (file === undefined) throw new ArgsError('FILE is missing (a workflow saved from ComfyUI)');
  if (extra.length > 0) throw new ArgsError(`unexpected argument "${extra[0]}"`);
  const name = args.values.get('name') ?? commandNameFrom(path.basename(file));
  if (!isCommandName(name)) throw new ArgsError(`--name "${name}" is not a command name: 1-32 lower-case letters, digits, "-" or "_"`);
  const savedInfo = args.values.get('object-info');
  if (savedInfo !== undefined && args.values.has('server')) throw new ArgsError('--server and --object-info contradict each other');
  const server = savedInfo === undefined ? configuredServer(args.values, io.env) : undefined;
  if (savedInfo === undefined && server === undefined) {
    throw new ArgsError("needs the server's node descriptions: give --server URL (or set COMFY_URL) or --object-info FILE");
  }
  const http = server && new ComfyHttp({ name: 'import', url: server.url, ...(server.apiKey !== undefined && { apiKey: server.apiKey }) });

  try {
    const parsed = await readJson(file, 'the workflow');
    const catalogue = http ? await serverCatalogue(http, server as ServerChoice) : await savedCatalogue(savedInfo as string);
    const conversion = convert(parsed, catalogue);
    if (conversion.problems.length > 0) throw new ImportFailure(conversion.problems);
    const options = proposeCommand(conversion.workflow, catalogue);
    if (options.length > MAX_OPTIONS) {
      throw new ImportFailure([`the proposal has ${options.length} options and Discord allows ${MAX_OPTIONS}; remove some nodes' inputs from the workflow or write the command file by hand`]);
    }
    io.stdout.write(summary(name, conversion, options));
    if (!args.flags.has('write')) {
      io.stdout.write('\nNothing written (add --write to save the template and the command file).\n');
      return 0;
    }
    return await write(io, { name, source: path.basename(file), conversion, options, ...directories(args.values, io.env), http, catalogue });
  } catch (error) {
    if (!(error instanceof ImportFailure)) throw error;
    for (const line of error.lines) io.stderr.write(`comfycord import: ${file}: ${line}\n`);
    io.stderr.write('Nothing written.\n');
    return 1;
  }
}

async function readJson(file: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ImportFailure([`cannot read ${what}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`]);
  }
  try {
    return parseExactJson(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    if (error instanceof JsonSyntaxError) throw new ImportFailure([`${what} is not JSON: ${error.message}`]);
    throw error;
  }
}

async function savedCatalogue(file: string): Promise<Catalogue> {
  const parsed = await readJson(file, '--object-info file');
  if (!isRecord(parsed) || !Object.values(parsed).some((info) => isRecord(info) && isRecord(info.input))) {
    throw new ImportFailure([`--object-info ${file} is not a saved /object_info (node class → {input, output, …})`]);
  }
  return parsed as Catalogue;
}

async function serverCatalogue(http: ComfyHttp, server: ServerChoice): Promise<Catalogue> {
  try {
    return await http.objectInfo();
  } catch (error) {
    throw new ImportFailure([`cannot read the node descriptions from ${server.url}: ${(error as Error).message}`]);
  }
}

function convert(parsed: unknown, catalogue: Catalogue): Conversion {
  try {
    return convertWorkflow(parsed, catalogue);
  } catch (error) {
    if (error instanceof ImportError) throw new ImportFailure([error.message]);
    throw error;
  }
}

interface WriteRequest {
  name: string;
  source: string;
  conversion: Conversion;
  options: ProposedOption[];
  commandsDir: string;
  templatesDir: string;
  http: ComfyHttp | undefined;
  catalogue: Catalogue;
}

/** Writes both files (never over existing ones), then checks them; one line per problem, exit code 1 on any. */
async function write(io: CliIO, request: WriteRequest): Promise<number> {
  const templateFile = path.join(request.templatesDir, `${request.name}.json`);
  const commandFile = path.join(request.commandsDir, `${request.name}.yaml`);
  const taken = [];
  for (const file of [templateFile, commandFile, path.join(request.commandsDir, `${request.name}.yml`)]) if (await exists(file)) taken.push(file);
  if (taken.length > 0) throw new ImportFailure(taken.map((file) => `${file} already exists; pick another --name or remove it first`));
  const yamlText = commandFileText(request.name, `comfycord import ${request.source}`, request.options);
  const jsonText = templateText(request.conversion.workflow);
  await mkdir(request.templatesDir, { recursive: true });
  await mkdir(request.commandsDir, { recursive: true });
  await writeFile(templateFile, jsonText, { flag: 'wx' });
  await writeFile(commandFile, yamlText, { flag: 'wx' });
  io.stdout.write(`\nWrote ${templateFile} and ${commandFile}.\n`);

  const problems = await checkWritten(commandFile, yamlText, jsonText, request);
  const where = request.http ? `against ${request.http.baseUrl}` : 'offline';
  if (problems.length === 0) {
    io.stdout.write(`/${request.name} passes the check (${where}).\n`);
    return 0;
  }
  for (const problem of problems) io.stderr.write(`comfycord import: ${commandFile}: ${problem}\n`);
  io.stderr.write(`/${request.name} fails the check (${where}); fix the files above and run "comfycord check".\n`);
  return 1;
}

/** What `comfycord check` (and `check --server` with a server) would say about the new command. */
async function checkWritten(commandFile: string, yamlText: string, jsonText: string, request: WriteRequest): Promise<string[]> {
  const parsed = parseCommandFile(commandFile, yamlText);
  const compiled = parsed.ok ? compileCommand(commandFile, parsed.value, parseApiWorkflow(jsonText)) : parsed;
  if (!compiled.ok) return compiled.problems.map(problemLine);
  if (!request.http) return [];
  const http = request.http;
  const info: ServerInfo = { objectInfo: async (nodeClass) => request.catalogue[nodeClass], models: (folder) => http.models(folder) };
  try {
    return (await checkAgainstServer(compiled.value, info)).map(problemLine);
  } catch (error) {
    return [`could not check against ${http.baseUrl}: ${(error as Error).message}`];
  }
}

function problemLine(problem: { option?: string; message: string }): string {
  return problem.option ? `option "${problem.option}": ${problem.message}` : problem.message;
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}

function summary(name: string, conversion: Conversion, options: readonly ProposedOption[]): string {
  const nodes = Object.entries(conversion.workflow);
  const classes = new Map<string, number>();
  for (const [, node] of nodes) classes.set(node.class_type, (classes.get(node.class_type) ?? 0) + 1);
  const lines = [
    `Template (${conversion.format === 'ui' ? 'converted from the UI format' : 'API format, unchanged'}): ${nodes.length} node(s): ` +
      [...classes].map(([type, count]) => (count > 1 ? `${type} ×${count}` : type)).join(', '),
    '',
    `Proposed command /${name}: ${options.length} option(s)`,
    table(options),
  ];
  if (conversion.notes.length > 0) lines.push('', 'Notes:', ...conversion.notes.map((note) => `  - ${note}`));
  return `${lines.join('\n')}\n`;
}

function table(options: readonly ProposedOption[]): string {
  if (options.length === 0) return '  (none: the workflow runs as saved)';
  const rows = options.map(({ option, why }) => [
    option.name + (option.required ? ' *' : ''),
    option.type,
    'target' in option && option.target !== undefined ? option.target : '',
    'default' in option && option.default !== undefined ? String(option.default) : option.type === 'choice' ? '(template)' : '-',
    why,
  ]);
  const header = ['option', 'type', 'target', 'default', 'why'];
  const widths = header.map((cell, column) => Math.max(cell.length, ...rows.map((row) => (row[column] as string).length)));
  const line = (cells: string[]): string => cells.map((cell, column) => (column < 4 ? cell.padEnd(widths[column] as number) : cell)).join(' | ').trimEnd();
  return [line(header), widths.map((width, column) => '-'.repeat(column < 4 ? width : 3)).join('-+-'), ...rows.map(line), '(* required)'].join('\n');
}
