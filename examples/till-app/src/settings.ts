// What the Settings screen edits. Everything but the device token is kept in localStorage;
// the token stays in memory (a secret never goes to a plain file): after a reload the app
// asks for it again, as the plugin's web build does (docs/web.md).

export interface TillSettings {
  serverUrl: string;
  storeId: string;
  registerId: string;
  /** Identifies this till to the server (its token is issued for it). Generated once. */
  deviceId: string;
  /** Customer edits on both sides closer than this go to a person (the Sync screen). */
  conflictWindowMs: number;
}

const KEY = 'pos-sync-till.settings';

function defaults(): TillSettings {
  return {
    serverUrl: location.origin,
    storeId: 'S1',
    registerId: 'R1',
    deviceId: `till-${crypto.randomUUID()}`,
    conflictWindowMs: 2000,
  };
}

export function loadSettings(): TillSettings {
  const saved = localStorage.getItem(KEY);
  const settings = { ...defaults(), ...(saved ? (JSON.parse(saved) as Partial<TillSettings>) : {}) };
  if (!saved) saveSettings(settings);
  return settings;
}

export function saveSettings(settings: TillSettings): void {
  localStorage.setItem(KEY, JSON.stringify(settings));
}
