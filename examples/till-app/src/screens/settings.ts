// Settings: where the till syncs and who it is. Saving reopens the engine with them.
import { field, h } from '../dom';
import { Notice } from '../errors';
import { saveSettings } from '../settings';
import type { TillSettings } from '../settings';
import type { Till } from '../till';

export function settingsScreen(till: Till, settings: TillSettings): { element: HTMLElement; show(): void } {
  const alert = new Notice('alert');
  const saved = new Notice('status');
  const input = (name: string, value: string, type = 'text') =>
    h('input', { type, name, value, autocomplete: 'off', spellcheck: 'false' });
  const serverUrl = input('server-url', settings.serverUrl, 'url');
  const token = input('device-token', '', 'password');
  const storeId = input('store', settings.storeId);
  const registerId = input('register', settings.registerId);
  const deviceId = input('device-id', settings.deviceId);
  const tieWindow = input('conflict-window', String(settings.conflictWindowMs), 'number');
  for (const required of [storeId, registerId, deviceId]) required.required = true;

  async function apply(): Promise<void> {
    const next: TillSettings = {
      serverUrl: serverUrl.value.trim(),
      storeId: storeId.value.trim(),
      registerId: registerId.value.trim(),
      deviceId: deviceId.value.trim(),
      conflictWindowMs: Number(tieWindow.value),
    };
    saved.show('Connecting…');
    await till.connect(next, token.value.trim() || null);
    if (till.openError) {
      saved.clear();
      alert.show(till.openError);
      return;
    }
    Object.assign(settings, next);
    saveSettings(next);
    alert.clear();
    saved.show(`Connected as ${next.storeId}-${next.registerId}${token.value ? '' : ' (offline: no device token)'}.`);
  }

  const form = h('form', { class: 'settings-form', 'aria-labelledby': 'settings-title' },
    field('Server URL', serverUrl),
    field('Device token (kept in memory only)', token),
    field('Store', storeId),
    field('Register', registerId),
    field('Device id', deviceId),
    field('Conflict review window (ms)', tieWindow),
    h('button', { type: 'submit', class: 'primary' }, 'Save and connect'),
    saved.element, alert.element);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void apply();
  });
  const element = h('section', { class: 'screen settings', 'aria-labelledby': 'settings-title' },
    h('h2', { id: 'settings-title' }, 'Settings'), form,
    h('p', { class: 'hint' }, 'The token is never stored: enter it again after a reload. Receipt numbers are ',
      h('code', {}, 'STORE-REGISTER-000001'), '; each till needs its own register. Another store, register or device id opens that identity’s own database: the sales of the previous one stay in its database and sync when it is chosen again.'));
  return { element, show: () => serverUrl.focus() };
}
