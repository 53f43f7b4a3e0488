// Where the bot's CPU goes, by room: a V8 CPU profile of the measured window (node:inspector, in the bot process),
// each sample charged to the innermost frame that belongs to a room. Node's own internals (streams, events, timers)
// are charged to the frame that called them; a sample with no room on its stack (a socket read that has not reached
// a parser yet) is charged to the library or Node part at its leaf.
import { Session } from 'node:inspector/promises';

/** The subset of a V8 `Profiler.Profile` this module reads. */
export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string }; children?: number[] }[];
  samples: number[];
  /** Microseconds since the previous sample, one per sample. */
  timeDeltas: number[];
}

export interface RoomShare {
  room: string;
  /** Milliseconds of samples charged to the room. */
  ms: number;
}

/** Library packages, by the room of the bot that they are the plumbing of. */
const PACKAGE_ROOMS: [RegExp, string][] = [
  [/^(discord\.js|@discordjs\/.*|@sapphire\/.*|@vladfrangu\/.*|discord-api-types|lodash\.snakecase|magic-bytes\.js)$/, 'discord.js (REST + gateway)'],
  // Discord REST (src/discord/restRequest.ts) and the ComfyUI client both send through undici; a socket's bytes
  // reach its parser with no caller of ours on the stack, so the two cannot be told apart here.
  [/^undici$/, 'HTTP client (undici: Discord REST + ComfyUI)'],
  [/^ws$/, 'WebSocket frames (ws: gateway + ComfyUI)'],
  [/^better-sqlite3$/, 'job store (src/jobs + SQLite)'],
  [/^sharp$/, 'media (src/media + sharp)'],
  [/^(pino|pino-.*|sonic-boom|thread-stream)$/, 'logging (pino)'],
  [/^bottleneck$/, 'channel pacing (bottleneck)'],
  [/^(tsx|esbuild|get-tsconfig)$/, 'TypeScript loader (tsx, bench only)'],
];

/** Rooms of src/, by directory. */
const SOURCE_ROOMS: Record<string, string> = {
  discord: 'cards + handlers (src/discord)',
  scheduler: 'scheduler (src/scheduler)',
  comfy: 'ComfyUI client (src/comfy)',
  jobs: 'job store (src/jobs + SQLite)',
  media: 'media (src/media + sharp)',
  templates: 'command templates (src/templates)',
  policy: 'policy (src/policy)',
  ops: 'metrics (src/ops + prom-client)',
  config: 'config + logger (src/config)',
};

const ROOM_LESS = new Set(['(garbage collector)', '(program)']);
const NODE_FETCH = 'discord.js (REST + gateway)';

/**
 * The room a frame belongs to, or null for a frame that is charged to its caller (Node internals, natives).
 * Node's bundled fetch (node:internal/deps/undici) only ever carries discord.js REST in the bot: its requests go
 * through `makeRequest: fetch`, the ComfyUI client uses the undici package.
 */
export function roomOfFrame(url: string): string | null {
  // the innermost package: discord.js's own copy of undici is undici, not discord.js
  const pkg = /.*\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1];
  if (pkg) {
    if (pkg === 'prom-client') return SOURCE_ROOMS['ops']!;
    return PACKAGE_ROOMS.find(([re]) => re.test(pkg))?.[1] ?? `other package (${pkg})`;
  }
  if (/\/bench\/[^/]+(\/[^/]+)?$/.test(url)) return 'bench hooks (bench/sut)';
  // the last src/ of the path: the checkout itself may live under some other src/
  const src = url.lastIndexOf('/src/');
  if (src >= 0 && (url.startsWith('file:') || url.startsWith('/'))) {
    const dir = /^([^/]+)\//.exec(url.slice(src + 5))?.[1];
    return (dir && SOURCE_ROOMS[dir]) ?? 'wiring (src/main.ts)';
  }
  if (url.startsWith('node:internal/deps/undici')) return NODE_FETCH;
  return null;
}

/** Where a frame that no room owns is charged when nothing above it belongs to a room either. */
function fallbackOf(functionName: string, url: string): string {
  if (url.startsWith('node:')) return 'Node runtime (net, streams, timers)';
  if (url.startsWith('wasm://')) return 'HTTP client (undici: Discord REST + ComfyUI)'; // undici's llhttp parser is the only wasm in the bot
  return functionName === '(idle)' ? '(idle)' : 'Node runtime (net, streams, timers)';
}

/** Milliseconds per room, largest first; idle samples are left out. */
export function cpuByRoom(profile: CpuProfile): RoomShare[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parentOf = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parentOf.set(c, n.id);
  const roomOfNode = new Map<number, string>();
  const resolve = (leafId: number): string => {
    const cached = roomOfNode.get(leafId);
    if (cached) return cached;
    const leaf = byId.get(leafId);
    if (!leaf) throw new Error(`the profile samples node ${leafId}, which it does not contain`);
    let room: string | null = ROOM_LESS.has(leaf.callFrame.functionName) ? leaf.callFrame.functionName : null;
    for (let id: number | undefined = leafId; room === null && id !== undefined; id = parentOf.get(id)) {
      room = roomOfFrame(byId.get(id)!.callFrame.url);
    }
    room ??= fallbackOf(leaf.callFrame.functionName, leaf.callFrame.url);
    roomOfNode.set(leafId, room);
    return room;
  };
  const totals = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    // timeDeltas[i] is the time before sample i; the time a sample stands for is the gap to the next one
    const us = profile.timeDeltas[i + 1] ?? 0;
    const room = resolve(id);
    if (room !== '(idle)') totals.set(room, (totals.get(room) ?? 0) + us);
  });
  return [...totals].map(([room, us]) => ({ room, ms: us / 1000 })).sort((a, b) => b.ms - a.ms);
}

/** Starts sampling this process's JavaScript; `stop` ends it and returns the profile. */
export async function startCpuProfile(intervalUs = 1000): Promise<{ stop(): Promise<CpuProfile> }> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: intervalUs });
  await session.post('Profiler.start');
  return {
    async stop() {
      try {
        const { profile } = await session.post('Profiler.stop');
        return profile as CpuProfile;
      } finally {
        session.disconnect();
      }
    },
  };
}
