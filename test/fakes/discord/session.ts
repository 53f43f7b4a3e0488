// An unmodified discord.js client logged in to a fresh fake Discord, for tests that drive the fake through the
// real library: one place for the login dance and for handing the next interaction to the test. Its REST manager
// sends through the bot's transport (`makeRequest`), as the bot's client does: discord.js runs on the project's
// undici 7, whose `request` cannot send the multipart body of @discordjs/rest's default transport.
import { once } from 'node:events';
import { Client, GatewayIntentBits, type ChatInputCommandInteraction, type Interaction, type RESTOptions } from 'discord.js';
import { discordRequest } from '../../../src/discord/restRequest.js';
import { startFakeDiscord, type FakeDiscord, type FakeDiscordOptions } from './index.js';

export interface DiscordBot {
  readonly discord: FakeDiscord;
  readonly client: Client;
  /** Runs `fn` on the next interaction the bot receives and hands back its result (or error) to the test. */
  nextInteraction<T>(fn: (i: Interaction) => Promise<T>): Promise<T>;
  /** Logs the client out, then stops the fake. */
  close(): Promise<void>;
}

const INTERACTION_WAIT_MS = 5000;

export async function startDiscordBot(options: FakeDiscordOptions): Promise<DiscordBot> {
  const discord = await startFakeDiscord(options);
  const client = new Client({
    intents: [GatewayIntentBits.Guilds],
    rest: { api: discord.restUrl, makeRequest: discordRequest as unknown as RESTOptions['makeRequest'] },
  });
  let nextHandler: ((i: Interaction) => Promise<void>) | undefined;
  client.on('interactionCreate', (i) => void nextHandler?.(i));
  const ready = once(client, 'clientReady');
  await client.login(discord.token);
  await ready;
  return {
    discord,
    client,
    nextInteraction<T>(fn: (i: Interaction) => Promise<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the bot received no interaction within ${INTERACTION_WAIT_MS / 1000} s`)), INTERACTION_WAIT_MS);
        nextHandler = async (i) => {
          nextHandler = undefined;
          clearTimeout(timer);
          try {
            resolve(await fn(i));
          } catch (error) {
            reject(error as Error);
          }
        };
      });
    },
    async close() {
      await client.destroy();
      await discord.close();
    },
  };
}

/** The interaction as a slash command; anything else fails the test with the type it got. */
export function chatInputCommand(i: Interaction): ChatInputCommandInteraction {
  if (!i.isChatInputCommand()) throw new Error(`expected a chat input command, got type ${i.type}`);
  return i;
}
