import { isPosSyncError } from 'capacitor-pos-sync';

/** An error in words for the cashier: the plugin's typed code and its message. */
export function describeError(error: unknown): string {
  if (isPosSyncError(error)) return `${error.code}: ${error.message}`;
  if (error instanceof Error) return error.message;
  return String(error);
}

/** A message region (role=alert for failures, role=status for outcomes) that screens share. */
export class Notice {
  readonly element: HTMLParagraphElement;

  constructor(role: 'alert' | 'status') {
    this.element = document.createElement('p');
    this.element.setAttribute('role', role);
    this.element.className = `notice ${role}`;
  }

  show(text: string): void {
    this.element.textContent = text;
  }

  clear(): void {
    this.element.textContent = '';
  }

  /** Runs `work`, showing its failure in words instead of throwing. */
  async guard<T>(work: () => Promise<T>): Promise<T | undefined> {
    this.clear();
    try {
      return await work();
    } catch (e) {
      this.show(describeError(e));
      return undefined;
    }
  }
}
