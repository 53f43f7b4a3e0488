// A child for ipc.test.ts: echoes, fails on request, emits an event, or exits.
import { emit, serve } from './ipc.js';

serve({
  echo: (p: { value: unknown }) => p.value,
  fail: async () => {
    throw new Error('asked to fail');
  },
  emit: (p: { name: string; body: unknown }) => {
    emit(p.name, p.body);
    return 'sent';
  },
  exit: () => process.exit(3),
  hang: () => new Promise(() => undefined),
});
