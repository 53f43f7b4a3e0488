// Reading the two directories into command definitions. A broken file is reported and skipped; it never stops
// the others from loading.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ApiWorkflow } from '../comfy/types.js';
import { linkActions } from './actions.js';
import { compileCommand, parseCommandFile } from './compile.js';
import type { CommandDefinition } from './definition.js';
import { DefinitionError, type Problem } from './errors.js';
import { parseApiWorkflow } from './workflow.js';

export interface Directories {
  commandsDir: string;
  templatesDir: string;
}

export interface LoadResult {
  commands: Map<string, CommandDefinition>;
  problems: Problem[];
  /** Command files read, for reports that list every file (loaded or not). */
  files: string[];
  /** Full paths of the templates the command files name (loaded or not). */
  templates: Set<string>;
}

const COMMAND_FILE = /\.ya?ml$/i;
const TEMPLATE_FILE = /\.json$/i;

/**
 * Templates no command file names are never loaded, so a broken one would go unnoticed until someone writes a
 * command for it: `check` reads them too.
 */
export async function checkUnusedTemplates(templatesDir: string, used: ReadonlySet<string>): Promise<Problem[]> {
  let names: string[];
  try {
    names = (await readdir(templatesDir)).filter((name) => TEMPLATE_FILE.test(name)).sort();
  } catch (error) {
    return [{ file: templatesDir, message: `cannot read the templates directory: ${(error as Error).message}` }];
  }
  const problems: Problem[] = [];
  for (const name of names) {
    const file = path.join(templatesDir, name);
    if (used.has(path.resolve(file))) continue;
    try {
      parseApiWorkflow(await readFile(file, 'utf8'));
    } catch (error) {
      if (!(error instanceof DefinitionError)) throw error;
      problems.push({ file, message: `template (not used by any command): ${error.message}` });
    }
  }
  return problems;
}

export async function loadCommands({ commandsDir, templatesDir }: Directories): Promise<LoadResult> {
  const commands = new Map<string, CommandDefinition>();
  const problems: Problem[] = [];
  const templates = new Set<string>();
  let names: string[];
  try {
    names = (await readdir(commandsDir)).filter((name) => COMMAND_FILE.test(name)).sort();
  } catch (error) {
    const problem = { file: commandsDir, message: `cannot read the commands directory: ${(error as Error).message}` };
    return { commands, problems: [problem], files: [], templates };
  }
  const files = names.map((name) => path.join(commandsDir, name));
  const rawActions = new Map<string, readonly unknown[]>();
  for (const file of files) {
    const result = await loadOne(file, templatesDir);
    if (result.template !== undefined) templates.add(path.resolve(templatesDir, result.template));
    if (!result.ok) {
      problems.push(...result.problems);
      continue;
    }
    const other = commands.get(result.value.name);
    if (other) {
      problems.push({ file, message: `command name /${result.value.name} is already used by ${other.file}; this file is skipped` });
      continue;
    }
    commands.set(result.value.name, result.value);
    if (result.actions) rawActions.set(result.value.name, result.actions);
  }
  // Second pass: an action may run any command, so actions are linked once all commands are known.
  for (const [name, raws] of rawActions) {
    const definition = commands.get(name) as CommandDefinition;
    const linked = linkActions(definition, raws, commands);
    commands.set(name, { ...definition, actions: linked.actions });
    problems.push(...linked.problems);
  }
  return { commands, problems, files, templates };
}

/** The outcome for one command file, with the template it names once that is known. */
type Loaded = ({ ok: true; value: CommandDefinition; actions?: readonly unknown[] } | { ok: false; problems: Problem[] }) & { template?: string };

async function loadOne(file: string, templatesDir: string): Promise<Loaded> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    return { ok: false, problems: [{ file, message: `cannot read: ${(error as Error).message}` }] };
  }
  const parsed = parseCommandFile(file, text);
  if (!parsed.ok) return parsed;
  const template = parsed.value.template;
  let workflow: ApiWorkflow;
  try {
    workflow = parseApiWorkflow(await readTemplate(templatesDir, template));
  } catch (error) {
    if (!(error instanceof DefinitionError)) throw error;
    return { ok: false, problems: [{ file, message: `template ${template}: ${error.message}` }], template };
  }
  const compiled = compileCommand(file, parsed.value, workflow);
  return compiled.ok ? { ...compiled, template, ...(parsed.value.actions && { actions: parsed.value.actions }) } : { ...compiled, template };
}

/** Templates are named relative to the templates directory and may not reach outside it. */
async function readTemplate(templatesDir: string, name: string): Promise<string> {
  const root = path.resolve(templatesDir);
  const full = path.resolve(root, name);
  if (path.isAbsolute(name) || !full.startsWith(root + path.sep)) {
    throw new DefinitionError('must be a file inside the templates directory');
  }
  try {
    return await readFile(full, 'utf8');
  } catch (error) {
    throw new DefinitionError(`cannot read ${full}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}
