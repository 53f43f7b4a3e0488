// Wiring only: config → store → backend pool → scheduler → bot. (Filled in as the rooms land.)
import type { Config } from './config/schema.js';
import type { Logger } from './config/logger.js';

/** A start-up failure a person can act on; its message is one line. */
export class StartupError extends Error {
  override readonly name = 'StartupError';
}

export async function startApp(config: Config, logger: Logger): Promise<{ stop(): Promise<void> }> {
  logger.info({ backends: config.backends.map((b) => b.name) }, 'starting');
  throw new StartupError('comfycord is not wired yet');
}
