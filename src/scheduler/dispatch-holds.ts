// What keeps the scheduler from taking or dispatching jobs: the operators' pause and drain of the whole bot or of
// one backend, a server's admins' hold on their own server, recovery's hold while it adopts jobs, and the close.
// A drain resolves when what it drains has no job left, which only the scheduler knows: it reports each backend
// that went idle (`backendIdle`) and the moment no job is left at all (`allIdle`).

/** A server's admins' hold: its queued jobs wait (paused), or its new jobs are refused (draining). */
export type GuildHold = 'paused' | 'draining';

export class DispatchHolds {
  private readonly pausedBackends = new Set<string>();
  private readonly guilds = new Map<string, GuildHold>();
  private readonly backendDrains = new Map<string, (() => void)[]>();
  private queueDrains: (() => void)[] = [];
  private paused = false;
  /** Recovery's hold while it attaches listeners to the jobs it restores; apart from the operators' pause. */
  private adopting = false;
  private closed = false;
  private takingJobs = true;

  /** Whether new jobs are taken at all (not while the whole bot drains). */
  get accepting(): boolean {
    return this.takingJobs;
  }

  /** Whether queued jobs may be dispatched now. */
  get dispatching(): boolean {
    return !this.paused && !this.adopting && !this.closed;
  }

  /** Whether a backend takes new work (not paused, not draining). */
  backendOpen(name: string): boolean {
    return !this.pausedBackends.has(name);
  }

  guildHold(guildId: string | null): GuildHold | null {
    return guildId === null ? null : (this.guilds.get(guildId) ?? null);
  }

  holdGuild(guildId: string, hold: GuildHold | null): void {
    if (hold === null) this.guilds.delete(guildId);
    else this.guilds.set(guildId, hold);
  }

  pauseBackend(name: string): void {
    this.pausedBackends.add(name);
  }

  resumeBackend(name: string): void {
    this.pausedBackends.delete(name);
  }

  /** Paused, and resolved once the backend holds no job (`idle`: it holds none now). */
  drainBackend(name: string, idle: boolean): Promise<void> {
    this.pausedBackends.add(name);
    if (idle) return Promise.resolve();
    return new Promise((resolve) => this.backendDrains.set(name, [...(this.backendDrains.get(name) ?? []), resolve]));
  }

  /** Dispatch stops; jobs are still taken and queued (a pause after a drain takes them again). */
  pause(): void {
    this.paused = true;
    this.takingJobs = true;
  }

  resume(): void {
    this.paused = false;
    this.takingJobs = true;
  }

  /** New jobs refused, resolved once no job is left (`idle`: none now); the accepted ones run, so a pause is lifted. */
  drain(idle: boolean): Promise<void> {
    this.takingJobs = false;
    this.paused = false;
    if (idle) return Promise.resolve();
    return new Promise((resolve) => this.queueDrains.push(resolve));
  }

  holdDispatch(): void {
    this.adopting = true;
  }

  releaseDispatch(): void {
    this.adopting = false;
  }

  /** Nothing is dispatched again (the scheduler is closing). */
  close(): void {
    this.closed = true;
  }

  backendIdle(name: string): void {
    for (const resolve of this.backendDrains.get(name) ?? []) resolve();
    this.backendDrains.delete(name);
  }

  allIdle(): void {
    for (const resolve of this.queueDrains.splice(0)) resolve();
  }
}
