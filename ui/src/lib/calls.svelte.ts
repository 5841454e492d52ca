import { pb, type Rec } from './pb';
import { t } from './i18n.svelte';
import { listen } from './realtime';

// Incoming calls ring wherever the member is in the client: one realtime
// subscription on `calls` for the whole session, a ring tone made with
// Web Audio (no sound file to download), and a system notification when
// the member allowed them.
export const ringing = $state<{ call: Rec | null; caller: string }>({ call: null, caller: '' });

let unsub: (() => void) | null = null;
let tone: { ctx: AudioContext; timer: number } | null = null;
let notice: Notification | null = null;

export async function startRinger() {
  stopRinger();
  const me = pb.authStore.record;
  if (!me || me.collectionName !== 'users') return;
  try {
    // a call that rang while the page was loading still rings
    const open = await pb.collection('calls').getList(1, 1, {
      filter: pb.filter("callee = {:me} && status = 'ringing'", { me: me.id }), sort: '-created', expand: 'caller',
    });
    if (open.items[0]) ring(open.items[0] as Rec);
    unsub = listen('calls/*', async (e) => {
      let c = e.record as Rec;
      if (c.callee === me.id && c.status === 'ringing' && e.action !== 'delete') {
        try { c = (await pb.collection('calls').getOne(c.id, { expand: 'caller' })) as Rec; } catch { /* ring without the name */ }
        if (c.status === 'ringing') ring(c);
      } else if (ringing.call?.id === c.id) silence();
    });
  } catch { /* no ringing without realtime; calls still work from links */ }
}

export function stopRinger() {
  unsub?.();
  unsub = null;
  silence();
}

function ring(c: Rec) {
  if (location.pathname === '/calls/' + c.id) return; // already on the call's page
  ringing.call = c;
  ringing.caller = c.expand?.caller?.name ?? '';
  playTone();
  if ('Notification' in window && Notification.permission === 'granted' && document.visibilityState !== 'visible') {
    try {
      notice = new Notification(t('call.incomingTitle'), { body: t('call.incoming', { name: ringing.caller }), tag: 'call-' + c.id });
      notice.onclick = () => { window.focus(); notice?.close(); };
    } catch { /* some browsers allow notifications only from a service worker */ }
  }
}

export function silence() {
  ringing.call = null;
  ringing.caller = '';
  if (tone) { clearInterval(tone.timer); tone.ctx.close().catch(() => {}); tone = null; }
  notice?.close();
  notice = null;
}

function playTone() {
  if (tone) return;
  try {
    const ctx = new AudioContext();
    const beep = () => {
      for (const at of [0, 0.35]) {
        const o = ctx.createOscillator();
        const g = ctx.createGain();
        o.frequency.value = 880;
        g.gain.setValueAtTime(0.0001, ctx.currentTime + at);
        g.gain.exponentialRampToValueAtTime(0.2, ctx.currentTime + at + 0.02);
        g.gain.exponentialRampToValueAtTime(0.0001, ctx.currentTime + at + 0.3);
        o.connect(g).connect(ctx.destination);
        o.start(ctx.currentTime + at);
        o.stop(ctx.currentTime + at + 0.32);
      }
    };
    beep();
    tone = { ctx, timer: window.setInterval(beep, 2000) };
  } catch { /* no audio: the dialog still shows */ }
}

// askNotifications asks once, from a click, so later calls can notify.
export function askNotifications() {
  if ('Notification' in window && Notification.permission === 'default') Notification.requestPermission().catch(() => {});
}

export function fmtDuration(sec: number): string {
  const m = Math.floor(sec / 60);
  const s = sec % 60;
  return `${m}:${String(s).padStart(2, '0')}`;
}
