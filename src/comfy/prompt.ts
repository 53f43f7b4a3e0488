// The event stream of one prompt: push (subscribe) and pull (async iteration), ending exactly once.
import type { NodeError, PromptEvent, TerminalPromptEvent } from './types.js';

type Listener = (event: PromptEvent) => void;

const TERMINAL = new Set<PromptEvent['type']>(['done', 'failed', 'interrupted']);

function isTerminal(event: PromptEvent): event is TerminalPromptEvent {
  return TERMINAL.has(event.type);
}

export class PromptRun implements AsyncIterable<PromptEvent> {
  readonly finished: Promise<TerminalPromptEvent>;
  private readonly listeners = new Set<Listener>();
  /**
   * Events emitted before anyone listened (e.g. `queued`, emitted while `submit` resolves) are handed to the
   * first consumer only; later consumers see events from their subscription on.
   */
  private backlog: PromptEvent[] | undefined = [];
  private terminal: TerminalPromptEvent | undefined;
  private resolveFinished!: (event: TerminalPromptEvent) => void;

  private queueNumber: number;

  /** `number` is NaN for a followed prompt until the queue or history has told us its number. */
  constructor(
    readonly promptId: string,
    number: number,
    readonly nodeErrors: Record<string, NodeError>,
  ) {
    this.queueNumber = number;
    this.finished = new Promise((resolve) => {
      this.resolveFinished = resolve;
    });
  }

  /** The server's queue number (lower runs first; negative for `front` submissions). */
  get number(): number {
    return this.queueNumber;
  }

  learnNumber(number: number): void {
    if (Number.isNaN(this.queueNumber)) this.queueNumber = number;
  }

  get ended(): boolean {
    return this.terminal !== undefined;
  }

  subscribe(listener: Listener): () => void {
    const backlog = this.backlog;
    this.backlog = undefined;
    this.listeners.add(listener);
    for (const event of backlog ?? []) listener(event);
    return () => {
      this.listeners.delete(listener);
    };
  }

  [Symbol.asyncIterator](): AsyncIterator<PromptEvent> {
    const queue: PromptEvent[] = [];
    let wake: (() => void) | undefined;
    let done = false;
    const unsubscribe = this.subscribe((event) => {
      queue.push(event);
      wake?.();
    });
    if (this.terminal && queue.length === 0) done = true;
    return {
      next: async (): Promise<IteratorResult<PromptEvent>> => {
        while (queue.length === 0 && !done) {
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
          wake = undefined;
        }
        const event = queue.shift();
        if (!event) return { done: true, value: undefined };
        if (isTerminal(event)) {
          done = true;
          unsubscribe();
        }
        return { done: false, value: event };
      },
      return: async (): Promise<IteratorResult<PromptEvent>> => {
        done = true;
        unsubscribe();
        return { done: true, value: undefined };
      },
    };
  }

  /** Delivers one event; after the terminal event everything is ignored, so a stream ends exactly once. */
  emit(event: PromptEvent): void {
    if (this.terminal) return;
    if (isTerminal(event)) this.terminal = event;
    if (this.backlog && this.listeners.size === 0) this.backlog.push(event);
    for (const listener of [...this.listeners]) listener(event);
    if (this.terminal) {
      this.listeners.clear();
      this.resolveFinished(this.terminal);
    }
  }
}
