import type { Rec } from './pb';

// Message lists are kept sorted oldest first and never hold one id twice,
// whatever order the page loads, live events and catch-ups arrive in.
export function cmp(a: Rec, b: Rec): number {
  if (a.created !== b.created) return a.created < b.created ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

export function merge(list: Rec[], incoming: Rec[]): Rec[] {
  if (incoming.length === 0) return list;
  // the common cases, an older page or newer messages, need no sort
  const sorted = incoming.slice().sort(cmp);
  if (list.length && cmp(sorted[sorted.length - 1], list[0]) < 0 && strictlySorted(sorted)) return sorted.concat(list);
  if (list.length && cmp(list[list.length - 1], sorted[0]) < 0 && strictlySorted(sorted)) return list.concat(sorted);
  const byId = new Map(list.map((m) => [m.id, m]));
  for (const m of incoming) byId.set(m.id, m);
  return Array.from(byId.values()).sort(cmp);
}

export function remove(list: Rec[], id: string): Rec[] {
  return list.filter((m) => m.id !== id);
}

function strictlySorted(list: Rec[]): boolean {
  for (let i = 1; i < list.length; i++) if (cmp(list[i - 1], list[i]) >= 0) return false;
  return true;
}
