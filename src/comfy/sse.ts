// Server-sent events read from a fetch body (so requests can carry headers, unlike EventSource). A stream that
// sends no bytes at all for `silenceMs` (keepalive comments count) is treated as dead and ends the iteration.

export interface SseFrame {
  event: string;
  data: string;
}

/**
 * Yields every dispatched frame. Ends when the body ends, when `silenceMs` pass without a byte (then
 * `onSilent` has been called), or when the consumer stops iterating; `abort` is called in the latter two cases
 * so the connection is released.
 */
export async function* readSse(
  body: AsyncIterable<Uint8Array>,
  options: { silenceMs: number; abort: () => void; onSilent?: () => void },
): AsyncGenerator<SseFrame> {
  const decoder = new TextDecoder();
  let buffer = '';
  let event = '';
  let data: string[] = [];
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      options.onSilent?.();
      options.abort();
    }, options.silenceMs);
  };
  arm();
  try {
    for await (const chunk of body) {
      arm();
      buffer += decoder.decode(chunk, { stream: true });
      let newline: number;
      while ((newline = buffer.search(/\r\n|\r|\n/)) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + (buffer.startsWith('\r\n', newline) ? 2 : 1));
        if (line === '') {
          if (data.length) yield { event: event || 'message', data: data.join('\n') };
          event = '';
          data = [];
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') event = value;
        else if (field === 'data') data.push(value);
      }
    }
  } catch (err) {
    // An abort (ours: silence or stop) or a reset ends the stream like an EOF: the caller reconciles.
    if (!isAbort(err)) throw err;
  } finally {
    clearTimeout(timer);
    options.abort();
  }
}

function isAbort(err: unknown): boolean {
  const e = err as { name?: string; code?: string };
  return e?.name === 'AbortError' || e?.code === 'UND_ERR_ABORTED' || e?.code === 'ECONNRESET' || e?.code === 'UND_ERR_SOCKET';
}
