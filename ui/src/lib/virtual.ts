// A virtual list for long message histories: only the messages in and
// near the viewport are in the DOM. Heights are measured as messages are
// drawn (a ResizeObserver, so no forced layout) and estimated from the
// average for the rest; the first message on screen is kept where it was
// whenever messages are added or dropped above it, or change height.

export type Range = { start: number; end: number; padTop: number; padBottom: number };

export class VirtualList {
  private heights = new Map<string, number>();
  private sum = 0;
  private count = 0;
  // the message at the top of the viewport and how far it is scrolled past
  anchorId = '';
  anchorOffset = 0;

  constructor(private overscan = 600, private fallback = 64) {}

  estimate(): number {
    return this.count ? this.sum / this.count : this.fallback;
  }

  height(id: string): number {
    return this.heights.get(id) ?? this.estimate();
  }

  // measured records a drawn message's height; true when it changed
  measured(id: string, h: number): boolean {
    const old = this.heights.get(id);
    if (old === h || h === 0) return false;
    if (old === undefined) { this.count++; this.sum += h; } else this.sum += h - old;
    this.heights.set(id, h);
    return true;
  }

  // offset is where message i starts, from the top of the list
  offset(ids: string[], i: number): number {
    let y = 0;
    for (let k = 0; k < i && k < ids.length; k++) y += this.height(ids[k]);
    return y;
  }

  // range: which messages to draw for a viewport at scrollTop (relative to
  // the list's top) of the given height, and the space above and below
  range(ids: string[], scrollTop: number, viewport: number): Range {
    const lo = scrollTop - this.overscan, hi = scrollTop + viewport + this.overscan;
    let y = 0, start = 0, padTop = 0;
    const n = ids.length;
    while (start < n) {
      const h = this.height(ids[start]);
      if (y + h > lo) break;
      y += h;
      start++;
    }
    padTop = y;
    let end = start;
    while (end < n && y < hi) { y += this.height(ids[end]); end++; }
    let padBottom = 0;
    for (let k = end; k < n; k++) padBottom += this.height(ids[k]);
    return { start, end, padTop, padBottom };
  }

  // remember which message is at the top of the viewport
  remember(ids: string[], scrollTop: number) {
    let y = 0;
    for (const id of ids) {
      const h = this.height(id);
      if (y + h > scrollTop) { this.anchorId = id; this.anchorOffset = scrollTop - y; return; }
      y += h;
    }
    this.anchorId = '';
  }

  // anchored: the scrollTop (relative to the list) that puts the remembered
  // message back where it was, or -1 when it is gone
  anchored(ids: string[]): number {
    if (!this.anchorId) return -1;
    const i = ids.indexOf(this.anchorId);
    return i < 0 ? -1 : this.offset(ids, i) + this.anchorOffset;
  }
}
