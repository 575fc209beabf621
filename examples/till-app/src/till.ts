// The till's one connection to the engine: opens it from the settings, keeps what the
// plugin's events say (sync status, conflicts, token requests) and tells the screens when it
// changed. Nothing here polls: the engine pushes `syncStatus` on every change (phase,
// connectivity, queue counts) and `conflict` for each new conflict. The engine runs in the
// plugin's worker (web) or natively, so a sync never blocks this thread.
import { PosSync } from 'capacitor-pos-sync';
import type { Conflict, SyncReport, SyncStatus, TokenRequest } from 'capacitor-pos-sync';

import { describeError } from './errors';
import type { TillSettings } from './settings';

/** One sync run this till saw: a full report for the ones it started, the status change for auto runs. */
export interface SyncRun {
  atMs: number;
  trigger: 'manual' | 'auto';
  outcome: string;
  uploaded: number | null;
  downloaded: number | null;
  conflicts: number | null;
  error: string | null;
}

/**
 * A database belongs to one till identity (its receipt numbers are that register's), so each
 * identity gets its own file: changing the register in Settings never mixes two counters, and
 * the old file's unsynced sales are still there when it is switched back.
 */
function databaseFile(settings: TillSettings): string {
  const safe = (s: string) => s.replace(/[^A-Za-z0-9_-]/g, '_');
  return `till-${safe(settings.storeId)}-${safe(settings.registerId)}-${safe(settings.deviceId)}.db`;
}

const AUTO_SYNC_INTERVAL_MS = 30_000;
const RUNS_KEPT = 10;

export class Till {
  status: SyncStatus | null = null;
  conflicts: Conflict[] = [];
  runs: SyncRun[] = [];
  /** Why the engine is not usable (open failed), in words; null when it is open. */
  openError: string | null = 'not opened yet';
  /** What the token situation needs from a person, or null. */
  tokenProblem: string | null = null;

  private token: string | null = null;
  private opened = false;
  private connectedAtMs = 0;
  private manualSyncs = 0;
  private readonly watchers = new Set<() => void>();

  /** Subscribes to the plugin's events once; they survive close/open. */
  async listen(): Promise<void> {
    await PosSync.addListener('syncStatus', (status) => this.onStatus(status));
    await PosSync.addListener('conflict', () => void this.refreshConflicts());
    await PosSync.addListener('tokenRequested', (request) => void this.onTokenRequested(request));
    // Connectivity as the page sees it (in a native shell, @capacitor/network's events would
    // go here). The plugin's web worker also reports its own; either way the engine syncs
    // when the network comes back, and its syncStatus event updates the indicator.
    for (const name of ['online', 'offline']) window.addEventListener(name, () => void this.reportNetwork());
  }

  private async reportNetwork(): Promise<void> {
    if (this.opened) await PosSync.setNetworkAvailable({ available: navigator.onLine });
  }

  /** `watcher` runs after every change of the till's state. */
  watch(watcher: () => void): void {
    this.watchers.add(watcher);
  }

  /** (Re)opens the engine with these settings; the token stays in memory only. */
  async connect(settings: TillSettings, token: string | null): Promise<void> {
    this.token = token;
    this.connectedAtMs = Date.now();
    if (this.opened) {
      await PosSync.close();
      this.opened = false;
    }
    try {
      await PosSync.open({
        storeId: settings.storeId,
        registerId: settings.registerId,
        deviceId: settings.deviceId,
        serverUrl: settings.serverUrl || null,
        databasePath: databaseFile(settings),
        conflictTieWindowMs: settings.conflictWindowMs,
      });
      this.opened = true;
      this.openError = null;
      this.tokenProblem = token ? null : 'No device token: sales are kept on this till until one is entered in Settings.';
      if (token) await PosSync.setToken({ token });
      await this.reportNetwork();
      // Ask the browser not to evict the till's database under storage pressure.
      void navigator.storage?.persist?.();
      await PosSync.startAutoSync({ intervalMs: AUTO_SYNC_INTERVAL_MS });
      await this.refreshConflicts();
    } catch (e) {
      this.openError = describeError(e);
    }
    this.changed();
  }

  get isOpen(): boolean {
    return this.opened;
  }

  /** Syncs now and records the run's report (a sync never rejects for network trouble). */
  async syncNow(): Promise<SyncReport> {
    this.manualSyncs++;
    try {
      const report = await PosSync.syncNow();
      this.addRun({
        atMs: Date.now(),
        trigger: 'manual',
        outcome: report.outcome,
        uploaded: report.uploaded,
        downloaded: report.downloaded,
        conflicts: report.conflicts,
        error: report.error,
      });
      await this.refreshConflicts();
      return report;
    } finally {
      this.manualSyncs--;
    }
  }

  async refreshConflicts(): Promise<void> {
    this.conflicts = (await PosSync.listConflicts()).conflicts;
    this.changed();
  }

  private onStatus(status: SyncStatus): void {
    const previous = this.status?.lastSyncAtMs ?? null;
    this.status = status;
    // An auto sync of this session finished (a manual one records its own report).
    const finished = status.lastSyncAtMs;
    if (finished !== null && finished !== previous && finished >= this.connectedAtMs && this.manualSyncs === 0) {
      this.addRun({
        atMs: finished,
        trigger: 'auto',
        outcome: status.lastError ? status.phase : 'completed',
        uploaded: null,
        downloaded: null,
        conflicts: null,
        error: status.lastError,
      });
    }
    this.changed();
  }

  private async onTokenRequested(request: TokenRequest): Promise<void> {
    if (request.refresh) this.token = null;
    if (!this.token) {
      // The server refused the token we have (or we have none): say so, and let the engine
      // stop waiting at once; the changes stay queued.
      this.tokenProblem = request.refresh
        ? 'The server refused the device token: enter a valid one in Settings. Sales are kept on this till.'
        : 'No device token: sales are kept on this till until one is entered in Settings.';
      this.changed();
      await PosSync.setToken({ token: null });
      return;
    }
    await PosSync.setToken({ token: this.token });
  }

  private addRun(run: SyncRun): void {
    this.runs = [run, ...this.runs].slice(0, RUNS_KEPT);
    this.changed();
  }

  private changed(): void {
    for (const watcher of this.watchers) watcher();
  }
}
