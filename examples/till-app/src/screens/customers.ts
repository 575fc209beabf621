// Customers: look up by name, phone or e-mail; create; edit. Edits are queued like sales and
// sync both ways; an edit made on the server at the same time shows up on the Sync screen.
import { PosSync } from 'capacitor-pos-sync';
import type { Customer, CustomerDocument } from 'capacitor-pos-sync';

import { field, fill, h } from '../dom';
import { Notice } from '../errors';

export function customersScreen(): { element: HTMLElement; show(): void } {
  const alert = new Notice('alert');
  const saved = new Notice('status');
  let editing: Customer | null = null;

  const query = h('input', { type: 'search', name: 'customer-search', autocomplete: 'off', placeholder: 'name, phone or e-mail' });
  const results = h('ul', { class: 'results', 'aria-label': 'Customers found' });
  const name = h('input', { type: 'text', name: 'name', required: true, autocomplete: 'off' });
  const phone = h('input', { type: 'tel', name: 'phone', autocomplete: 'off' });
  const email = h('input', { type: 'email', name: 'email', autocomplete: 'off' });
  const heading = h('h3', { id: 'customer-form-title' });
  const form = h('form', { class: 'customer-form', 'aria-labelledby': 'customer-form-title' },
    heading, field('Name', name), field('Phone', phone), field('E-mail', email),
    h('div', { class: 'row' },
      h('button', { type: 'submit', class: 'primary' }, 'Save customer'),
      h('button', { type: 'button', onclick: () => edit(null) }, 'New customer')),
    saved.element);

  function edit(customer: Customer | null): void {
    editing = customer;
    heading.textContent = customer ? `Edit ${customer.name}` : 'New customer';
    name.value = customer?.name ?? '';
    phone.value = customer?.phone ?? '';
    email.value = customer?.email ?? '';
    saved.clear();
    name.focus();
  }

  async function find(): Promise<void> {
    const text = query.value.trim();
    const found = text ? (await alert.guard(() => PosSync.searchCustomers({ query: text })))?.customers ?? [] : [];
    fill(results, ...found.map((c) =>
      h('li', { 'data-customer': c.id },
        h('span', {}, c.name, ' ', h('small', {}, [c.phone, c.email].filter(Boolean).join(' · '))),
        c.pendingUpload ? h('small', { class: 'badge warning' }, 'not synced yet') : null,
        h('button', { type: 'button', 'aria-label': `Edit ${c.name}`, onclick: () => edit(c) }, 'Edit'))));
    if (text && found.length === 0) fill(results, h('li', { class: 'hint' }, `No customer matches “${text}”.`));
  }

  async function save(): Promise<void> {
    // Keep the fields this form does not show (the server's own, loyalty ids, ...).
    const customer: CustomerDocument = {
      ...(editing?.json ?? {}),
      id: editing?.id ?? crypto.randomUUID(),
      name: name.value.trim(),
    };
    for (const [key, input] of [['phone', phone], ['email', email]] as const) {
      if (input.value.trim()) customer[key] = input.value.trim();
      else delete customer[key];
    }
    const result = await alert.guard(() =>
      editing ? PosSync.updateCustomer({ customer }) : PosSync.createCustomer({ customer }));
    if (!result) return;
    editing = result;
    heading.textContent = `Edit ${result.name}`;
    saved.show(`Saved ${result.name}; it syncs with the next run.`);
    await find();
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void save();
  });
  let typing: number | undefined;
  query.addEventListener('input', () => {
    clearTimeout(typing);
    typing = window.setTimeout(() => void find(), 120);
  });

  edit(null);
  const element = h('section', { class: 'screen customers', 'aria-labelledby': 'customers-title' },
    h('h2', { id: 'customers-title' }, 'Customers'),
    h('div', { class: 'columns' },
      h('div', {}, field('Find a customer', query), results),
      form),
    alert.element);
  return { element, show: () => query.focus() };
}
