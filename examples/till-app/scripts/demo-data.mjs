// The demo store's catalog and customers (demo-data.json; prices in cents), seeded into the
// reference server through its admin routes by `make demo-web` and by the end-to-end test
// (an identical payload is left alone, so seeding twice changes nothing).
import fs from 'node:fs';

const data = JSON.parse(fs.readFileSync(new URL('./demo-data.json', import.meta.url), 'utf8'));
export const PRODUCTS = data.products;
export const CUSTOMERS = data.customers;

/** Puts the catalog and the customers on `server` (a ReferenceServer of test/browser/harness.mjs). */
export async function seed(server, store) {
  const put = (type, items) =>
    server.admin(`/admin/stores/${store}/records/${type}`, { method: 'PUT', body: JSON.stringify(items) });
  await put('product', PRODUCTS);
  await put('customer', CUSTOMERS);
}
