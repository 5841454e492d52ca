// Realtime events in the order of the writes.
export type Seen = { updated: string; deleted: boolean; record: any };

// inOrder: the event as it should be applied, or null when it is stale.
// PocketBase sends each realtime message from a goroutine of its own, so
// two writes to one record a moment apart can arrive in either order: an
// update before its create, a delete before the update it follows (a
// stream's "live" after its "ended"). Per topic, the newest state seen of
// a record wins: an older update is dropped, nothing comes back after its
// delete, and a create that comes after its update carries the update's
// record (screens insert on create).
const remembered = 2000;
export function inOrder(seen: Map<string, Seen>, e: any): any {
  const id = e?.record?.id;
  if (!id || !['create', 'update', 'delete'].includes(e.action)) return e;
  const updated = String(e.record.updated ?? '');
  const prev = seen.get(id);
  if (prev?.deleted) return null;
  let ev = e;
  if (prev && e.action === 'create') ev = { ...e, record: prev.record };
  else if (prev && e.action === 'update' && updated && updated < prev.updated) return null;
  seen.delete(id); // re-inserted: the map forgets the least recently written first
  seen.set(id, { updated: String(ev.record.updated ?? ''), deleted: e.action === 'delete', record: ev.record });
  if (seen.size > remembered) seen.delete(seen.keys().next().value as string);
  return ev;
}
