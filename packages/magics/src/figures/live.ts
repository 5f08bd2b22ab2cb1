/**
 * An output that a running magic replaces in place (`update_display_data`), at most `rate` times
 * a second, always with the latest state: the live training figure and the progress line.
 */
import type { MagicContext } from '@hyperlab/kernel/magics';

const MIMEBUNDLE = Symbol.for('jupyter.mimebundle');

/** A value the kernel displays as exactly this bundle (`data` MIME type → value). */
export function asDisplay(data: Record<string, unknown>, metadata: Record<string, unknown> = {}): object {
  return { [MIMEBUNDLE]: () => ({ data, metadata }) };
}

/** A throttled, updatable output. */
export class LiveOutput {
  private id: string | undefined;
  private last = -Infinity;
  private pending: (() => Record<string, unknown>) | undefined;

  /**
   * @param ctx - The running magic's context (its `display`).
   * @param rate - Updates per second at most (the first show and `finish` are not throttled).
   * @param now - Clock in ms (tests pass a fake one).
   */
  constructor(
    private readonly ctx: Pick<MagicContext, 'display'>,
    private readonly rate: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Offers new content (made lazily, only when it will be sent). */
  offer(make: () => Record<string, unknown>): void {
    const t = this.now();
    if (this.id === undefined || this.rate <= 0 || t - this.last >= 1000 / this.rate) {
      this.send(make(), t);
      this.pending = undefined;
    } else this.pending = make;
  }

  /** Sends the final content (or the last offered one), whatever the rate. */
  finish(make?: () => Record<string, unknown>): void {
    const content = make ?? this.pending;
    this.pending = undefined;
    if (content) this.send(content(), this.now());
  }

  /** Number of messages sent so far. */
  sent = 0;

  private send(data: Record<string, unknown>, t: number): void {
    this.last = t;
    this.sent++;
    if (this.id === undefined) this.id = this.ctx.display(asDisplay(data));
    else this.ctx.display(asDisplay(data), { displayId: this.id, update: true });
  }
}
