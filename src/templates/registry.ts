// The live set of commands: loaded at start-up, reloaded when files change on disk. A file that breaks on reload
// is dropped (and logged) rather than kept in its old form, so what runs always matches what is on disk.
import { EventEmitter } from 'node:events';
import { watch, type FSWatcher } from 'node:fs';
import type { Logger } from '../config/logger.js';
import { silentLogger } from '../config/logger.js';
import type { CommandDefinition } from './definition.js';
import { formatProblem, type Problem } from './errors.js';
import { loadCommands, type Directories } from './load.js';

export interface RegistryOptions extends Directories {
  logger?: Logger;
  /** Quiet time after the last file event before reloading (editors write files in several steps). */
  debounceMs?: number;
}

interface RegistryEvents {
  changed: [commands: ReadonlyMap<string, CommandDefinition>];
}

export class CommandRegistry extends EventEmitter<RegistryEvents> {
  #commands: ReadonlyMap<string, CommandDefinition> = new Map();
  #problems: readonly Problem[] = [];
  readonly #options: RegistryOptions;
  readonly #logger: Logger;
  #watchers: FSWatcher[] = [];
  #timer: NodeJS.Timeout | undefined;
  #reloading: Promise<void> = Promise.resolve();

  private constructor(options: RegistryOptions) {
    super();
    this.#options = options;
    this.#logger = (options.logger ?? silentLogger).child({ component: 'templates' });
  }

  static async load(options: RegistryOptions): Promise<CommandRegistry> {
    const registry = new CommandRegistry(options);
    await registry.reload();
    return registry;
  }

  get commands(): ReadonlyMap<string, CommandDefinition> {
    return this.#commands;
  }

  get problems(): readonly Problem[] {
    return this.#problems;
  }

  /** Reads both directories again; reloads never overlap. */
  reload(): Promise<void> {
    // A failed reload was already reported to its caller; it must not block the next one.
    this.#reloading = this.#reloading.catch(() => undefined).then(async () => {
      const result = await loadCommands(this.#options);
      this.#commands = result.commands;
      this.#problems = result.problems;
      for (const problem of result.problems) {
        const what = problem.action === undefined ? 'command skipped' : 'action skipped';
        this.#logger.error({ file: problem.file, option: problem.option, action: problem.action }, `${what}: ${formatProblem(problem)}`);
      }
      this.#logger.info({ commands: [...result.commands.keys()] }, `${result.commands.size} command(s) loaded`);
    });
    return this.#reloading;
  }

  /** Watches both directories and emits 'changed' with the new command set after each debounced reload. */
  watch(): void {
    if (this.#watchers.length > 0) return;
    for (const dir of [this.#options.commandsDir, this.#options.templatesDir]) {
      let watcher: FSWatcher;
      try {
        watcher = watch(dir, () => this.#schedule());
      } catch (error) {
        // The commands still work; only edits to this directory go unnoticed until a restart.
        this.#logger.error({ err: error, dir }, `cannot watch ${dir} for command changes`);
        continue;
      }
      watcher.on('error', (error) => this.#logger.error({ err: error, dir }, 'watching for command changes failed'));
      this.#watchers.push(watcher);
    }
  }

  #schedule(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.reload().then(
        () => {
          if (this.#watchers.length > 0) this.emit('changed', this.#commands);
        },
        (error: unknown) => this.#logger.error({ err: error }, 'reloading commands failed'),
      );
    }, this.#options.debounceMs ?? 200);
  }

  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const watcher of this.#watchers) watcher.close();
    this.#watchers = [];
  }
}
