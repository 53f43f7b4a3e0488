// One at a time across many callers: each task starts when the one before it settled, whatever its outcome.
// Used for the backends' inventory reads: a node list (/object_info) is hundreds of kilobytes of JSON and a
// backend has a file list per model folder, so fifty backends starting together would receive some thousand
// responses at once; the bot's memory kept the high-water mark of that start-up burst for its whole life.
export type SerialGate = <T>(task: () => Promise<T>) => Promise<T>;

export function serialGate(): SerialGate {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(task: () => Promise<T>): Promise<T> => {
    const run = tail.then(task, task);
    tail = run.catch(() => undefined);
    return run;
  };
}
