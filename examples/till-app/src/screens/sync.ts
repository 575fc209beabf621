// Sync: what the engine's events say — connectivity, the queue's health and counts — the
// runs this till saw, and the conflicts that need a person, with both versions side by side.
import { PosSync } from 'capacitor-pos-sync';
import type { Conflict, CustomerDocument, Resolution } from 'capacitor-pos-sync';

import { fill, h, time } from '../dom';
import { Notice } from '../errors';
import type { Till } from '../till';

const COUNTS = ['pending', 'syncing', 'synced', 'failed', 'conflict', 'rejected'] as const;

/** The text of a document field for the comparison table. */
function shown(value: unknown): string {
  if (value === undefined || value === null) return '—';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export function syncScreen(till: Till): { element: HTMLElement; show(): void } {
  const alert = new Notice('alert');
  const outcome = new Notice('status');
  const stats = h('dl', { class: 'stats', 'aria-label': 'Queue' });
  const runs = h('tbody');
  const conflicts = h('div', { class: 'conflicts' });
  const syncButton = h('button', { type: 'button', class: 'primary', onclick: () => void sync() }, 'Sync now');
  const retryButton = h('button', { type: 'button', onclick: () => void retry() }, 'Retry failed now');

  async function sync(): Promise<void> {
    syncButton.disabled = true;
    const report = await alert.guard(() => till.syncNow());
    syncButton.disabled = false;
    if (report) outcome.show(`Sync ${report.outcome}: ${report.uploaded} sent, ${report.downloaded} received${report.error ? ` — ${report.error}` : ''}`);
  }

  async function retry(): Promise<void> {
    const r = await alert.guard(() => PosSync.retryFailedNow());
    if (r) outcome.show(`${r.count} failed change(s) will be retried now.`);
  }

  async function resolve(conflict: Conflict, resolution: Resolution, merged?: CustomerDocument): Promise<void> {
    const done = await alert.guard(() => PosSync.resolveConflict({ conflictId: conflict.conflictId, resolution, merged }));
    if (done === undefined) return;
    outcome.show(`Conflict on ${conflict.entityType} ${conflict.entityId} resolved (${resolution.replace('_', ' ')}).`);
    await alert.guard(() => till.refreshConflicts());
  }

  function conflictCard(conflict: Conflict, index: number): HTMLElement {
    const local = conflict.localJson as Record<string, unknown>;
    const server = (conflict.serverJson ?? {}) as Record<string, unknown>;
    const keys = [...new Set([...Object.keys(local), ...Object.keys(server)])].filter((k) => k !== 'id');
    // For a merge, a person picks each differing field's side (this till's by default).
    const picks = new Map<string, 'local' | 'server'>();
    const rows = keys.map((key) => {
      const differs = shown(local[key]) !== shown(server[key]);
      if (differs) picks.set(key, 'local');
      const pick = (side: 'local' | 'server') => {
        const input = h('input', { type: 'radio', name: `merge-${index}-${key}`, value: side, checked: side === 'local',
          'aria-label': `${key}: use ${side === 'local' ? "this till's" : "the server's"} value` });
        input.addEventListener('change', () => picks.set(key, side));
        return input;
      };
      return h('tr', { class: differs ? 'differs' : '', 'data-field': key },
        h('th', { scope: 'row' }, key),
        h('td', {}, differs ? pick('local') : null, ' ', shown(local[key])),
        h('td', {}, differs ? pick('server') : null, ' ', shown(server[key])));
    });
    const merge = () => {
      const merged: Record<string, unknown> = { ...server, ...local };
      for (const [key, side] of picks) {
        const source = side === 'local' ? local : server;
        if (source[key] === undefined) delete merged[key];
        else merged[key] = source[key];
      }
      return resolve(conflict, 'merged', merged as unknown as CustomerDocument);
    };
    return h('article', { class: 'conflict', 'data-conflict': conflict.conflictId, 'aria-label': `Conflict on ${conflict.entityType} ${conflict.entityId}` },
      h('h4', {}, `${conflict.entityType} ${shown(local.name ?? conflict.entityId)}`),
      h('p', {}, conflict.reason),
      h('table', {},
        h('thead', {}, h('tr', {}, h('th', {}, 'field'), h('th', {}, 'this till'), h('th', {}, 'server'))),
        h('tbody', {}, ...rows)),
      h('div', { class: 'row' },
        h('button', { type: 'button', onclick: () => void resolve(conflict, 'keep_local') }, 'Keep this till’s'),
        h('button', { type: 'button', onclick: () => void resolve(conflict, 'keep_server') }, 'Keep the server’s'),
        h('button', { type: 'button', class: 'primary', onclick: () => void merge() }, 'Merge the picked fields')));
  }

  let shownConflicts = '';
  function render(): void {
    const queue = till.status?.queue;
    const tile = (name: string, label: string, value: string) =>
      h('div', { class: 'stat' }, h('dt', {}, label), h('dd', { 'data-stat': name }, value));
    fill(stats,
      ...COUNTS.map((name) => tile(name, name, queue ? String(queue[name]) : '—')),
      tile('oldest', 'oldest unsynced', queue?.oldestUnsyncedAgeMs != null ? `${Math.round(queue.oldestUnsyncedAgeMs / 1000)} s` : '—'),
      tile('last-sync', 'last sync', time(till.status?.lastSyncAtMs ?? null)),
      tile('next-sync', 'next sync', time(till.status?.nextSyncAtMs ?? null)));
    fill(runs, ...till.runs.map((run) =>
      h('tr', { 'data-outcome': run.outcome, 'data-trigger': run.trigger },
        h('td', {}, time(run.atMs)), h('td', {}, run.trigger), h('td', {}, run.outcome),
        h('td', { class: 'num' }, String(run.uploaded ?? '—')), h('td', { class: 'num' }, String(run.downloaded ?? '—')),
        h('td', {}, run.error ?? ''))));
    if (till.runs.length === 0) fill(runs, h('tr', {}, h('td', { colspan: 6, class: 'hint' }, 'No sync run yet in this session.')));
    // Status events are frequent: redraw the conflicts only when the list changed, so that a
    // person's merge picks stay as they are.
    const ids = till.conflicts.map((c) => c.conflictId).join(' ');
    if (ids === shownConflicts && conflicts.hasChildNodes()) return;
    shownConflicts = ids;
    fill(conflicts, ...till.conflicts.map(conflictCard));
    if (till.conflicts.length === 0) fill(conflicts, h('p', { class: 'hint', 'data-empty': 'conflicts' }, 'No conflict needs a person.'));
  }

  till.watch(render);
  render();
  const element = h('section', { class: 'screen sync', 'aria-labelledby': 'sync-title' },
    h('h2', { id: 'sync-title' }, 'Sync'),
    h('div', { class: 'row' }, syncButton, retryButton),
    outcome.element, alert.element,
    h('h3', {}, 'Queue'), stats,
    h('h3', {}, 'Conflicts'), conflicts,
    h('h3', {}, 'Last sync runs (this session)'),
    h('table', { 'aria-label': 'Last sync runs' },
      h('thead', {}, h('tr', {}, ...['time', 'trigger', 'outcome', 'sent', 'received', 'error'].map((t) => h('th', { class: t === 'sent' || t === 'received' ? 'num' : undefined }, t)))),
      runs));
  return { element, show: () => syncButton.focus() };
}
