// The bench's own unit tests (statistics, table, arguments, fairness): `npx vitest run -c bench/vitest.config.ts`.
// The benchmarks themselves are run by hand (`npm run bench`) and never by a test.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: { include: ['bench/**/*.test.ts'], root: new URL('..', import.meta.url).pathname },
});
