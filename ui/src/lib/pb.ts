import PocketBase, { type RecordModel } from 'pocketbase';

// One client for the whole app, on the same origin as the page.
export const pb = new PocketBase(location.origin);
// Screens load several lists at once; the SDK's auto-cancel would drop them.
pb.autoCancellation(false);

// Rec is any record the SDK answers (RecordModel) with the timestamps every
// salon collection has; screens name their collections' fields in records.ts.
export interface Rec extends RecordModel { created: string; updated?: string }

export function me(): Rec | null {
  return (pb.authStore.record as Rec | null) ?? null;
}

export function isGuest(): boolean {
  return pb.authStore.record?.collectionName === 'guests';
}

export function isAdmin(): boolean {
  const r = pb.authStore.record as Rec | null;
  return !!r && (r.collectionName === '_superusers' || r.role === 'admin');
}

export function avatarURL(user: Rec | undefined | null, thumb = '80x80'): string {
  if (!user || !user.avatar) return '';
  return pb.files.getURL(user, user.avatar, { thumb });
}

// quote a value for a PocketBase filter
export function q(v: string): string {
  return pb.filter('{:v}', { v });
}

export function uuid(): string {
  return crypto.randomUUID ? crypto.randomUUID() : Math.random().toString(36).slice(2) + Date.now().toString(36);
}
