// A fresh PostgreSQL schema per store a test opens: the URL selects it through search_path, so stores of
// different tests (and test files running in parallel) never see each other's rows.
import { randomUUID } from 'node:crypto';
import { afterAll, inject } from 'vitest';
import { SyncPg } from '../../src/jobs/pg-bridge.js';

let admin: SyncPg | null = null;
afterAll(() => {
  admin?.close();
  admin = null;
});

/** The test run's server (started by the global set-up). */
export function pgServerUrl(): string {
  return inject('pgUrl');
}

/** Creates an empty schema; returns a URL whose connections use it. */
export function freshSchemaUrl(): string {
  const schema = `t_${randomUUID().replaceAll('-', '')}`;
  admin ??= new SyncPg(pgServerUrl());
  admin.query(`CREATE SCHEMA ${schema}`);
  return `${pgServerUrl()}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
}
