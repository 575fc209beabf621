// The till: four screens behind a tab bar, and a status strip that follows the engine's
// events (connectivity, queue health) on every screen.
import './style.css';

import { fill, h } from './dom';
import { customersScreen } from './screens/customers';
import { sellScreen } from './screens/sell';
import { settingsScreen } from './screens/settings';
import { syncScreen } from './screens/sync';
import { loadSettings } from './settings';
import { Till } from './till';

const till = new Till();
const settings = loadSettings();
const screens = {
  sell: { title: 'Sell', ...sellScreen() },
  customers: { title: 'Customers', ...customersScreen() },
  sync: { title: 'Sync', ...syncScreen(till) },
  settings: { title: 'Settings', ...settingsScreen(till, settings) },
};
type ScreenName = keyof typeof screens;
const names = Object.keys(screens) as ScreenName[];

const tabs = names.map((name, i) =>
  h('button', { type: 'button', role: 'tab', id: `tab-${name}`, 'aria-controls': `screen-${name}`, title: `Alt+${i + 1}`, onclick: () => showScreen(name) },
    screens[name].title));
const online = h('span', { class: 'online', 'data-indicator': 'online' });
const health = h('span', { class: 'badge', 'data-indicator': 'health' });
const problem = h('p', { class: 'banner', role: 'alert' });
const main = h('main');
for (const name of names) {
  screens[name].element.id = `screen-${name}`;
  screens[name].element.setAttribute('role', 'tabpanel');
  main.append(screens[name].element);
}

function showScreen(name: ScreenName): void {
  for (const [i, other] of names.entries()) {
    const active = other === name;
    tabs[i].setAttribute('aria-selected', String(active));
    screens[other].element.hidden = !active;
  }
  document.body.dataset.screen = name;
  screens[name].show();
}

function renderStatus(): void {
  const status = till.status;
  // `online` is the network; the phase says whether the server answers.
  const failing = status?.phase === 'error' || status?.phase === 'backed_off';
  const syncing = status?.phase === 'uploading' || status?.phase === 'downloading';
  online.textContent = !status ? 'Not connected' : !status.online ? 'Offline' : failing ? 'Online · sync failing' : syncing ? 'Online · syncing' : 'Online';
  online.dataset.state = !status?.online ? 'offline' : failing ? 'failing' : 'online';
  const queue = status?.queue;
  const waiting = queue ? queue.pending + queue.syncing + queue.failed : 0;
  health.textContent = queue ? `Queue ${queue.health}${waiting ? ` · ${waiting} waiting` : ''}${queue.conflict ? ` · ${queue.conflict} conflict` : ''}` : 'Queue —';
  health.dataset.state = queue?.health ?? 'unknown';
  health.title = queue?.healthReason || (status?.lastError ?? '');
  const issue = till.openError ?? till.tokenProblem ?? (failing ? `Sync: ${status?.lastError ?? status?.phase}` : null);
  problem.textContent = issue ?? '';
  problem.hidden = !issue;
}

document.addEventListener('keydown', (e) => {
  const index = Number(e.key) - 1;
  if (e.altKey && index >= 0 && index < names.length) {
    e.preventDefault();
    showScreen(names[index]);
  }
});

fill(document.body,
  h('header', {},
    h('h1', {}, 'pos-sync Till'),
    h('nav', { role: 'tablist', 'aria-label': 'Screens' }, ...tabs),
    h('div', { class: 'indicators', 'aria-live': 'polite' }, online, health)),
  problem, main);
till.watch(renderStatus);
renderStatus();
showScreen('sell');

await till.listen();
await till.connect(settings, null);
document.body.dataset.ready = 'true';
