// Rate limit on failed node registrations: a source address, or an activation id, that fails to register
// MAX_FAILURES times within WINDOW_MS is refused with ThrottlingException until the window has passed. This
// stops guessing activation codes. Per process (each worker counts its own share).

import { ServiceError } from '../server/errors.ts';

export const MAX_FAILURES = 10;
export const WINDOW_MS = 5 * 60 * 1000;

export class RegistrationLimiter {
  readonly #failures = new Map<string, number[]>();
  readonly #max: number;
  readonly #window: number;

  constructor(max = MAX_FAILURES, windowMs = WINDOW_MS) {
    this.#max = max;
    this.#window = windowMs;
  }

  #recent(key: string, now: number): number[] {
    const list = (this.#failures.get(key) ?? []).filter((t) => t > now - this.#window);
    if (list.length === 0) this.#failures.delete(key);
    else this.#failures.set(key, list);
    return list;
  }

  /** Throws ThrottlingException if any of the keys is over the limit. */
  check(keys: string[], now = Date.now()): void {
    for (const key of keys) {
      const list = this.#recent(key, now);
      if (list.length >= this.#max) {
        const wait = Math.ceil((list[0]! + this.#window - now) / 1000);
        throw new ServiceError('ThrottlingException', `Too many failed registration attempts (${key}). Try again in ${wait} s.`);
      }
    }
  }

  recordFailure(keys: string[], now = Date.now()): void {
    if (this.#failures.size > 100_000) this.#failures.clear();
    for (const key of keys) this.#failures.set(key, [...this.#recent(key, now), now]);
  }
}
