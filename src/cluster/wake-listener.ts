// The leader's ear for standbys: a connection of its own (the store's worker is synchronous and busy with
// requests) that LISTENs on the wake channel and hands each payload on. A lost connection is opened again; what
// was sent meanwhile is found by the leader's periodic sweep, so a missed wake delays a job, never loses it.
import pg from 'pg';
import type { Logger } from '../config/logger.js';
import { WAKE_CHANNEL } from '../jobs/store-types.js';

export interface WakeListener {
  close(): Promise<void>;
}

export async function listenForWakes(url: string, onWake: (payload: string) => void, logger: Logger): Promise<WakeListener> {
  let closed = false;
  let client: pg.Client | null = null;
  let retry: NodeJS.Timeout | undefined;
  const connect = async (): Promise<void> => {
    const fresh = new pg.Client({ connectionString: url, application_name: 'comfycord-listen' });
    fresh.on('notification', (message) => {
      if (message.channel === WAKE_CHANNEL && message.payload) onWake(message.payload);
    });
    fresh.on('error', (error) => {
      logger.warn({ err: error }, 'the wake listener lost its database connection; reconnecting');
      void fresh.end().catch(() => undefined);
      if (client === fresh) client = null;
      if (!closed) retry = setTimeout(() => void connect().catch(again), 1000);
    });
    await fresh.connect();
    await fresh.query(`LISTEN ${WAKE_CHANNEL}`);
    if (closed) return void (await fresh.end());
    client = fresh;
  };
  const again = (error: unknown): void => {
    logger.warn({ err: error }, 'the wake listener could not connect; trying again');
    if (!closed) retry = setTimeout(() => void connect().catch(again), 1000);
  };
  await connect();
  return {
    async close() {
      closed = true;
      clearTimeout(retry);
      await client?.end().catch(() => undefined);
      client = null;
    },
  };
}
