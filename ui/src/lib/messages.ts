import type { Rec } from './pb';

// Message lists are kept sorted oldest first and never hold one id twice,
// whatever order the page loads, live events and catch-ups arrive in.
export function cmp(a: Rec, b: Rec): number {
  if (a.created !== b.created) return a.created < b.created ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

export function merge(list: Rec[], incoming: Rec[]): Rec[] {
  if (incoming.length === 0) return list;
  const byId = new Map(list.map((m) => [m.id, m]));
  for (const m of incoming) byId.set(m.id, m);
  return Array.from(byId.values()).sort(cmp);
}

export function remove(list: Rec[], id: string): Rec[] {
  return list.filter((m) => m.id !== id);
}
