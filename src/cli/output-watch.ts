// Noticing that stdout can no longer be written, chiefly because its reader went away (`comfycord … | head`).
import type { EventEmitter } from 'node:events';
import type { TextOutput } from './io.js';

/** stdout failed for a reason other than its reader going away. */
export class OutputError extends Error {
  override readonly name = 'OutputError';
}

export interface OutputWatch {
  /**
   * Resolves to exit code 0 when the reader closed the output (it has all it wants, so the command ends as if done),
   * rejects with an OutputError for any other write failure, and never settles for outputs that cannot fail.
   */
  readonly closed: Promise<number>;
  /** Whether the reader has closed the output. */
  readonly readerGone: boolean;
}

/**
 * Starts listening for write errors on `output`. The listener stays for the life of the process, so writes still
 * under way after a command was abandoned cannot crash it with an unhandled 'error' event.
 */
export function watchOutput(output: TextOutput): OutputWatch {
  let readerGone = false;
  const on = (output as Partial<EventEmitter>).on;
  const closed =
    typeof on !== 'function'
      ? new Promise<number>(() => {})
      : new Promise<number>((resolve, reject) => {
          on.call(output, 'error', (error: NodeJS.ErrnoException) => {
            if (error.code === 'EPIPE') {
              readerGone = true;
              resolve(0);
            } else reject(new OutputError(error.message));
          });
        });
  // Nobody may be awaiting it (help, a usage error): a failure then needs no handling beyond the listener.
  closed.catch(() => {});
  return {
    closed,
    get readerGone() {
      return readerGone;
    },
  };
}
