// newest: which of two copies of one record a screen should show. A
// screen reads a record (getOne) and also hears its updates in realtime;
// the read's answer can come after an update written later (the read was
// answered from the database first, then delayed: a loaded machine, a
// network that came back), and applying it would put the older state back
// for good (a call shown "Calling…" after it was answered, a live stream
// "scheduled" after it went live). The copy written last wins; equal
// times (the same millisecond) take the one that came last. The kept
// copy keeps what the screen expanded (expand) when the other has none.
export function newest<T extends { updated?: string; expand?: any }>(cur: T | null | undefined, next: T): T {
  if (!cur) return next;
  const keep = String(next.updated ?? '') < String(cur.updated ?? '') ? cur : next;
  const other = keep === cur ? next : cur;
  return keep.expand || !other.expand ? keep : { ...keep, expand: other.expand };
}
