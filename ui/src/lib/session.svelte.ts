import { pb, type Rec } from './pb';
import { setLang, langChoices, t } from './i18n.svelte';
import { navigate } from './router.svelte';
import { forgetTopics, listen } from './realtime';

// What the whole app shows about the signed-in member: who they are, the
// counts in the header, whether the realtime connection is up.
export const session = $state({
  user: (pb.authStore.record as Rec | null) ?? null,
  // shown on the login page (why you were logged out); kept for the tab, so
  // that a reload right after does not lose it
  notice: sessionStorage.getItem('salon.notice') ?? '',
  notifUnread: 0,
  dmUnread: 0,
  online: true,
  fileToken: '',
});

type Listener = () => void;
const reconnectListeners = new Set<Listener>();
// onReconnect runs fn after every realtime reconnection, so screens can
// fetch what they missed while the connection was down.
export function onReconnect(fn: Listener): () => void {
  reconnectListeners.add(fn);
  return () => reconnectListeners.delete(fn);
}

pb.authStore.onChange(() => {
  session.user = (pb.authStore.record as Rec | null) ?? null;
  // signed in again: the reason for the last logout is old news
  if (pb.authStore.isValid) { session.notice = ''; sessionStorage.removeItem('salon.notice'); }
});

// A token that stops working means the member was logged out elsewhere,
// or suspended: say so instead of failing silently.
pb.afterSend = (response, data) => {
  if (!pb.authStore.isValid && !pb.authStore.token) return data;
  const url = response.url || '';
  const msg = String(data?.message ?? '');
  const code = String(data?.data?.reason?.code ?? '');
  const suspended = code === 'suspended' || code === 'dm_suspended' || /^(Your|This) account is suspended/.test(msg);
  if (suspended && (response.status === 403 || response.status === 401)) {
    endSession(t('auth.suspended'));
  } else if (response.status === 401 && pb.authStore.token && !url.includes('/auth-with-password')) {
    endSession(t('auth.sessionEnded'));
  }
  return data;
};

let ended = false;
export function endSession(why: string) {
  if (ended) return;
  ended = true;
  stopLive();
  pb.realtime.unsubscribe().catch(() => {}); // every screen's subscriptions end with the session
  forgetTopics();
  pb.authStore.clear();
  session.notice = why;
  if (why) sessionStorage.setItem('salon.notice', why); else sessionStorage.removeItem('salon.notice');
  navigate('/login', true);
  setTimeout(() => (ended = false), 500);
}

let unsubs: (() => void)[] = [];
let tokenTimer = 0;
let refreshTimer = 0;
let connectedOnce = false;
let dropped = false; // the connection was lost since the last PB_CONNECT

export async function startLive() {
  stopLive();
  if (!pb.authStore.isValid) return;
  const guest = pb.authStore.record?.collectionName === 'guests';
  // a screen may have opened the connection already: then the next
  // PB_CONNECT is a reconnection
  connectedOnce = pb.realtime.isConnected;
  unsubs.push(await pb.realtime.subscribe('PB_CONNECT', () => {
    session.online = true;
    // after a drop this is surely a reconnection, even when the first
    // PB_CONNECT came before this listener was added
    if (connectedOnce || dropped) reconnectListeners.forEach((fn) => fn());
    connectedOnce = true;
    dropped = false;
    if (!guest) refreshCounts();
  }));
  pb.realtime.onDisconnect = () => { dropped = true; if (pb.authStore.isValid) session.online = false; };
  await refreshFileToken();
  tokenTimer = window.setInterval(refreshFileToken, 100_000);
  if (guest) return;
  // Through listen, as the screens do: a screen listening to the same
  // topic (the DM list, the notifications page) cannot take the badges'
  // listener with it. The counts are fetched once the server has both
  // subscriptions, so a notification or message that comes while they
  // are set up is counted too.
  const subs = [listen('notifications/*', () => refreshCounts()), listen('dm_messages/*', () => refreshCounts())];
  unsubs.push(...subs);
  refreshCounts();
  Promise.all(subs.map((u) => u.ready)).then(() => refreshCounts());
  // keep the token fresh, and learn early when it stopped working
  refreshTimer = window.setInterval(() => pb.collection('users').authRefresh().catch(() => {}), 10 * 60_000);
}

export function stopLive() {
  unsubs.forEach((u) => { try { u(); } catch { /* already gone */ } });
  unsubs = [];
  clearInterval(tokenTimer);
  clearInterval(refreshTimer);
  connectedOnce = false;
}

async function refreshFileToken() {
  try { session.fileToken = await pb.files.getToken(); } catch { /* shown as broken images */ }
}

export async function refreshCounts() {
  if (!pb.authStore.isValid || pb.authStore.record?.collectionName !== 'users') return;
  try {
    const [n, d] = await Promise.all([
      pb.send('/api/salon/notifications/unread-count', {}),
      pb.send('/api/salon/dm/unread', {}),
    ]);
    session.notifUnread = n.count ?? 0;
    session.dmUnread = d.unread ?? 0;
  } catch { /* the next event tries again */ }
}

let drawn: () => void = () => {};
const firstScreenDrawn = new Promise<void>((r) => (drawn = r));
// firstScreen: a page says its first screen is drawn
export function firstScreen() { drawn(); }

// boot checks the token and opens the live connection. With wait (a page
// whose requests started early, see main.ts) it waits until that page has
// drawn its first screen, or a second and a half at most: on a slow phone
// connection the page's own requests go first.
export async function boot(wait = false) {
  if (wait) await Promise.race([firstScreenDrawn, new Promise((r) => setTimeout(r, 1500))]);
  if (pb.authStore.isValid && pb.authStore.record?.collectionName === 'users') {
    try {
      const chosen = langChoices();
      await pb.collection('users').authRefresh();
      // a language switched to meanwhile is newer than the record read
      if (langChoices() === chosen) setLang(pb.authStore.record?.lang, false);
    } catch (err: any) {
      if (err?.status === 401 || err?.status === 403) return; // afterSend ended the session
    }
  }
  if (pb.authStore.isValid) startLive();
}

export function fileURL(rec: Rec, name: string, thumb = ''): string {
  return pb.files.getURL(rec, name, { token: session.fileToken, ...(thumb ? { thumb } : {}) });
}
