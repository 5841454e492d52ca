import DOMPurify from 'dompurify';
import { pb, me } from './pb';
import type { EventRec, RSVPRec } from './records';
import { i18n, t, type Key } from './i18n.svelte';
import { fileURL } from './session.svelte';

// Events: what the list, the month calendar and the event page share.
// Times are stored in UTC and shown in the browser's zone, which is the
// member's own.

export const KINDS = ['live', 'meetup', 'offline', 'seminar', 'other'] as const;

export type RSVPState = { status: '' | 'going' | 'waitlist' | 'cancelled'; position?: number; going: number; waitlist: number; capacity: number };

export function kindName(kind: string): string {
  return t(('events.kind.' + (KINDS.includes(kind as any) ? kind : 'other')) as Key);
}

export function myZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

// PocketBase stores "2030-12-01 10:00:00.000Z"; filters compare that text.
export function dbTime(d: Date): string {
  return d.toISOString().replace('T', ' ');
}

export function parse(iso: string | undefined): Date | null {
  if (!iso) return null;
  const d = new Date(iso.replace(' ', 'T'));
  return isNaN(d.getTime()) ? null : d;
}

function locale() { return i18n.lang === 'ja' ? 'ja-JP' : 'en-GB'; }

// "Tue 1 Dec 2030, 19:00" in the member's zone (or in zone).
export function fmtWhen(iso: string, zone?: string): string {
  const d = parse(iso);
  if (!d) return '';
  return new Intl.DateTimeFormat(locale(), {
    weekday: 'short', year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit',
    ...(zone ? { timeZone: zone, timeZoneName: 'short' } : {}),
  }).format(d);
}

export function fmtTime(iso: string): string {
  const d = parse(iso);
  return d ? new Intl.DateTimeFormat(locale(), { hour: '2-digit', minute: '2-digit' }).format(d) : '';
}

// fmtRange: "Tue 1 Dec 2030, 19:00 – 21:00" (the end's date only when it differs)
export function fmtRange(ev: EventRec): string {
  const s = parse(ev.starts_at), e = parse(ev.ends_at);
  if (!s) return '';
  const start = fmtWhen(ev.starts_at);
  if (!e) return start;
  const end = e.toDateString() === s.toDateString() ? fmtTime(ev.ends_at) : fmtWhen(ev.ends_at);
  return start + ' – ' + end;
}

export function monthTitle(year: number, month: number): string {
  return new Intl.DateTimeFormat(locale(), { year: 'numeric', month: 'long' }).format(new Date(year, month, 1));
}

export function weekdayNames(): string[] {
  // Monday first (ISO weeks, as Japanese calendars usually print them too)
  const f = new Intl.DateTimeFormat(locale(), { weekday: 'short' });
  return Array.from({ length: 7 }, (_, i) => f.format(new Date(2024, 0, 1 + i))); // 2024-01-01 is a Monday
}

// monthGrid: the days shown for a month, whole weeks from Monday, in the
// member's zone.
export function monthGrid(year: number, month: number): Date[] {
  const first = new Date(year, month, 1);
  const lead = (first.getDay() + 6) % 7;
  const start = new Date(year, month, 1 - lead);
  const last = new Date(year, month + 1, 0);
  const trail = 6 - ((last.getDay() + 6) % 7);
  const days: Date[] = [];
  for (let d = new Date(start); d <= new Date(year, month + 1, trail); d = new Date(d.getFullYear(), d.getMonth(), d.getDate() + 1)) {
    days.push(d);
  }
  return days;
}

export function dayKey(d: Date): string {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

// upcoming events: not over yet (an event without an end counts as over
// an hour after it starts)
export async function listUpcoming(page: number, kind: string, perPage = 20) {
  const now = new Date();
  let filter = pb.filter("(ends_at >= {:now} || (ends_at = '' && starts_at >= {:hourAgo}))",
    { now: dbTime(now), hourAgo: dbTime(new Date(now.getTime() - 3600_000)) });
  if (kind) filter += ' && ' + pb.filter('kind = {:k}', { k: kind });
  return pb.collection('events').getList<EventRec>(page, perPage, { filter, sort: 'starts_at,id', skipTotal: true });
}

export async function listBetween(from: Date, to: Date): Promise<EventRec[]> {
  return pb.collection('events').getFullList<EventRec>({
    filter: pb.filter('starts_at >= {:from} && starts_at < {:to}', { from: dbTime(from), to: dbTime(to) }),
    sort: 'starts_at,id', batch: 200,
  });
}

// myRSVPs maps event id → my RSVP (going or waitlist) for the given events.
export async function myRSVPs(eventIds: string[]): Promise<Map<string, RSVPRec>> {
  const out = new Map<string, RSVPRec>();
  if (!eventIds.length || !me()) return out;
  const ids = eventIds.map((id, i) => pb.filter(`event = {:e${i}}`, { ['e' + i]: id })).join(' || ');
  const rows = await pb.collection('event_rsvps').getFullList<RSVPRec>({
    filter: pb.filter('user = {:u}', { u: me()!.id }) + " && status != 'cancelled' && (" + ids + ')',
  });
  for (const r of rows) out.set(r.event, r);
  return out;
}

export function rsvpState(id: string): Promise<RSVPState> {
  return pb.send('/api/salon/events/' + encodeURIComponent(id) + '/rsvp', {});
}

// download fetches a file that needs the member's token (an <a href> would
// not send it) and hands it to the browser as a download.
export async function download(path: string, filename: string) {
  const res = await fetch(pb.buildURL(path), { headers: { Authorization: pb.authStore.token } });
  if (!res.ok) {
    let data: any = {};
    try { data = await res.json(); } catch { /* not JSON */ }
    const err: any = new Error(data?.message || String(res.status));
    err.status = res.status;
    err.response = data;
    throw err;
  }
  const blob = await res.blob();
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

// richText sanitizes an editor field's HTML (event descriptions, product
// texts): no scripts or forms, links open in a new tab without an opener.
export function richText(html: string): string {
  if (!html) return '';
  const out = DOMPurify.sanitize(html, { FORBID_TAGS: ['style', 'form', 'input', 'iframe', 'button'], RETURN_DOM_FRAGMENT: true });
  out.querySelectorAll('a').forEach((a) => { a.setAttribute('target', '_blank'); a.setAttribute('rel', 'noopener noreferrer nofollow'); });
  const div = document.createElement('div');
  div.appendChild(out);
  return div.innerHTML;
}

// An event's cover: an image of at most 5 MB (the field's own limits,
// checked before uploading), served as a protected file.
export const COVER_TYPES = ['image/jpeg', 'image/png', 'image/gif', 'image/webp'];
export const COVER_MAX = 5 << 20;

export function coverProblem(file: File): string {
  if (!COVER_TYPES.includes(file.type)) return t('events.coverNotImage');
  if (file.size > COVER_MAX) return t('events.coverTooBig', { size: (file.size / (1 << 20)).toFixed(1) + ' MB' });
  return '';
}

export function coverURL(ev: EventRec): string {
  return ev.cover ? fileURL(ev, ev.cover, '600x300') : '';
}

// safeURL lets only web links through (an href is never javascript:).
export function safeURL(u: string | undefined): string {
  return u && /^https?:\/\//i.test(u) ? u : '';
}
