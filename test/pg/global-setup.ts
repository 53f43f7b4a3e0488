// Vitest global set-up: one PostgreSQL per test run; each store test makes its own schema in it (see schema.ts).
import type { TestProject } from 'vitest/node';
import { startPgServer } from './server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    pgUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => void> {
  const server = await startPgServer();
  project.provide('pgUrl', server.url);
  return () => server.stop();
}
