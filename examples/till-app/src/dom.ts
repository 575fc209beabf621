// A few DOM helpers, so that the screens read as what they show rather than createElement calls.

type Props = Record<string, string | number | boolean | EventListener | undefined>;
type Child = Node | string | null | undefined | false;

/** An element with attributes (`onclick`-style keys become listeners) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') element.addEventListener(key.replace(/^on/, ''), value);
    else if (value === true) element.setAttribute(key, '');
    else element.setAttribute(key, String(value));
  }
  element.append(...children.filter((c): c is Node | string => c !== null && c !== undefined && c !== false));
  return element;
}

let nextId = 0;

/** An input with its visible label: screen readers and the end-to-end test find it by label. */
export function field(label: string, input: HTMLInputElement | HTMLSelectElement): HTMLLabelElement {
  input.id ||= `field-${++nextId}`;
  return h('label', { class: 'field', for: input.id }, h('span', {}, label), input);
}

/** Replaces the children of `parent`. */
export function fill(parent: Element, ...children: Child[]): void {
  parent.replaceChildren(...children.filter((c): c is Node | string => c !== null && c !== undefined && c !== false));
}

/** Money in minor units, as the catalog stores it. */
export function money(cents: number, currency = 'EUR'): string {
  return new Intl.NumberFormat('en', { style: 'currency', currency }).format(cents / 100);
}

export function time(ms: number | null): string {
  return ms === null ? '—' : new Date(ms).toLocaleTimeString('en-GB');
}
