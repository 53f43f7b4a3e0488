// How a CLI run reports a prompt's progress: JSON lines for scripts, one redrawn bar line for a terminal.
import type { TextOutput } from './io.js';

export type CliRunEvent =
  | { type: 'queued'; prompt_id: string }
  | { type: 'progress'; node: string | null; value: number; max: number }
  | { type: 'preview'; mime: string; bytes: number }
  | { type: 'output'; node: string; path: string }
  | { type: 'done' }
  | { type: 'error'; message: string };

export interface ProgressPrinter {
  print(event: CliRunEvent): void;
}

export function jsonLinesPrinter(out: TextOutput): ProgressPrinter {
  return { print: (event) => out.write(`${JSON.stringify(event)}\n`) };
}

const BAR_WIDTH = 24;

export function progressBar(value: number, max: number): string {
  const ratio = max > 0 ? Math.min(1, Math.max(0, value / max)) : 0;
  const filled = Math.round(ratio * BAR_WIDTH);
  return `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${value}/${max}`;
}

/** For a terminal: the bar redraws in place (`\r`); other events end the bar line and print one line. */
export function terminalPrinter(out: TextOutput, err: TextOutput): ProgressPrinter {
  let barShown = false;
  let previews = 0;
  const endBar = () => {
    if (barShown) out.write('\n');
    barShown = false;
  };
  return {
    print(event) {
      switch (event.type) {
        case 'queued':
          out.write(`queued as ${event.prompt_id}\n`);
          return;
        case 'progress':
          out.write(`\r${progressBar(event.value, event.max)}${event.node ? ` node ${event.node}` : ''}${previews ? ` (${previews} previews)` : ''}\x1b[K`);
          barShown = true;
          return;
        case 'preview':
          previews += 1;
          return;
        case 'output':
          endBar();
          out.write(`wrote ${event.path}\n`);
          return;
        case 'done':
          endBar();
          out.write('done\n');
          return;
        case 'error':
          endBar();
          err.write(`error: ${event.message}\n`);
          return;
      }
    },
  };
}
