// One at a time across many callers: each task starts when the one before it settled, whatever its outcome.
// Used for the backends' inventory reads: a node list (/object_info) is megabytes of JSON, and fifty backends
// starting together would otherwise hold fifty of them parsed at once.
export type SerialGate = <T>(task: () => Promise<T>) => Promise<T>;

export function serialGate(): SerialGate {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(task: () => Promise<T>): Promise<T> => {
    const run = tail.then(task, task);
    tail = run.catch(() => undefined);
    return run;
  };
}
