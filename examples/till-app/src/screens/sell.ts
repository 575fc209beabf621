// Sell: find products (typeahead search or a scanner in the barcode field), build the cart,
// check out. The sale is recorded on the till (offline or not) and gets its receipt number
// at once; the engine uploads it when it can.
import { PosSync } from 'capacitor-pos-sync';
import type { Product, SaleDocument } from 'capacitor-pos-sync';

import { field, fill, h, money } from '../dom';
import { Notice } from '../errors';

interface CartLine {
  product: Product;
  unitPrice: number;
  currency: string;
  quantity: number;
}

export function sellScreen(): { element: HTMLElement; show(): void } {
  const cart: CartLine[] = [];
  const alert = new Notice('alert');
  const receipt = new Notice('status');
  receipt.element.classList.add('receipt');

  const search = h('input', { type: 'search', name: 'product-search', autocomplete: 'off', placeholder: 'e.g. cola' });
  const barcode = h('input', { type: 'text', name: 'barcode', inputmode: 'numeric', autocomplete: 'off', placeholder: 'scan, or type + Enter' });
  const grid = h('div', { class: 'grid', role: 'list', 'aria-label': 'Products' });
  const lines = h('tbody');
  const total = h('output', { class: 'total', 'aria-live': 'polite' });
  const checkout = h('button', { type: 'button', class: 'primary', onclick: () => void pay() }, 'Checkout (cash)');

  async function priceOf(product: Product): Promise<{ amount: number; currency: string }> {
    const { price } = await PosSync.currentPrice({ productId: product.id });
    return { amount: price?.amount ?? 0, currency: price?.currency ?? 'EUR' };
  }

  async function add(product: Product): Promise<void> {
    const line = cart.find((l) => l.product.id === product.id);
    if (line) line.quantity++;
    else {
      const price = await priceOf(product);
      cart.push({ product, unitPrice: price.amount, currency: price.currency, quantity: 1 });
    }
    receipt.clear();
    renderCart();
  }

  function setQuantity(line: CartLine, quantity: number): void {
    if (quantity <= 0) cart.splice(cart.indexOf(line), 1);
    else line.quantity = quantity;
    renderCart();
  }

  function renderCart(): void {
    fill(lines, ...cart.map((line) =>
      h('tr', { 'data-product': line.product.id },
        h('td', {}, line.product.name),
        h('td', { class: 'qty' },
          h('button', { type: 'button', 'aria-label': `One less ${line.product.name}`, onclick: () => setQuantity(line, line.quantity - 1) }, '−'),
          h('span', {}, String(line.quantity)),
          h('button', { type: 'button', 'aria-label': `One more ${line.product.name}`, onclick: () => setQuantity(line, line.quantity + 1) }, '+')),
        h('td', { class: 'num' }, money(line.unitPrice * line.quantity, line.currency)))));
    const sum = cart.reduce((s, l) => s + l.unitPrice * l.quantity, 0);
    total.textContent = `Total ${money(sum, cart[0]?.currency)}`;
    checkout.disabled = cart.length === 0;
  }

  async function showResults(): Promise<void> {
    const query = search.value.trim();
    const found = query ? (await alert.guard(() => PosSync.searchProducts({ query, limit: 24 })))?.products ?? [] : [];
    const priced = await Promise.all(found.map(async (p) => ({ product: p, price: await priceOf(p) })));
    fill(grid, ...priced.map(({ product, price }) =>
      h('button', { type: 'button', role: 'listitem', class: 'tile', 'data-product': product.id, onclick: () => void alert.guard(() => add(product)) },
        h('strong', {}, product.name), h('span', {}, money(price.amount, price.currency)))));
    if (found.length === 0) fill(grid, h('p', { class: 'hint' }, query ? `No product matches “${query}”.` : 'Scan a barcode, or type a product name.'));
  }

  async function scan(): Promise<void> {
    const code = barcode.value.trim();
    barcode.value = '';
    if (!code) return;
    const { product } = await PosSync.productByBarcode({ barcode: code });
    if (!product) {
      alert.show(`No product has the barcode ${code}.`);
      return;
    }
    await add(product);
  }

  async function pay(): Promise<void> {
    if (cart.length === 0) return;
    const amount = cart.reduce((s, l) => s + l.unitPrice * l.quantity, 0);
    const sale: SaleDocument = {
      id: crypto.randomUUID(),
      lines: cart.map((l) => ({ product_id: l.product.id, name: l.product.name, quantity: l.quantity, unit_price: l.unitPrice })),
      payments: [{ method: 'cash', amount }],
      total: amount,
      currency: cart[0].currency,
      sold_at: new Date().toISOString(),
    };
    const recorded = await alert.guard(() => PosSync.recordSale({ sale }));
    if (!recorded) return;
    cart.length = 0;
    renderCart();
    receipt.show(`Receipt ${recorded.receiptNumber}`);
    barcode.focus();
  }

  let typing: number | undefined;
  search.addEventListener('input', () => {
    clearTimeout(typing);
    typing = window.setTimeout(() => void showResults(), 120);
  });
  // A scanner types the digits and presses Enter.
  barcode.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      void alert.guard(scan);
    }
  });

  renderCart();
  void showResults();
  const element = h('section', { class: 'screen sell', 'aria-labelledby': 'sell-title' },
    h('h2', { id: 'sell-title' }, 'Sell'),
    h('div', { class: 'columns' },
      h('div', { class: 'catalog' },
        h('div', { class: 'row' }, field('Barcode', barcode), field('Search products', search)),
        grid),
      h('div', { class: 'cart' },
        h('h3', {}, 'Cart'),
        h('table', { 'aria-label': 'Cart' }, lines),
        total, checkout, receipt.element)),
    alert.element);
  return { element, show: () => barcode.focus() };
}
