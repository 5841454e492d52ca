import { pb } from './pb';

// listen: one realtime subscription per topic ("live_chat_messages/*",
// "calls/ID"…), shared by every screen that listens to it.
//
// Why not pb.collection(x).subscribe in each screen: the SDK (0.28) keeps
// one EventSource listener list per topic and attaches a new listener only
// when the topic list it sends to the server changes. When one screen
// unsubscribes a topic and another subscribes the same topic in the same
// tick (a page replaced by the next, an effect that runs again), the topic
// list it sends is unchanged, so the new callback is never attached: the
// event reaches the page and nobody hears it. Here a topic's SDK
// subscription outlives its last listener by a moment, so a listener that
// comes right after finds it in place; and a listener removed is removed at
// once, even when the subscription was still being set up (no callback
// into a page that is gone).
type Listener = (e: any) => void;
// Unlisten stops a listener; ready settles once the server has the
// subscription (events from then on arrive: fetch what came before it).
export type Unlisten = (() => void) & { ready: Promise<void> };
type Topic = { fns: Set<Listener>; off: Promise<(() => Promise<void>) | null>; timer: number };

const topics = new Map<string, Topic>();
const linger = 2000;

export function listen(topic: string, fn: Listener): Unlisten {
  let t = topics.get(topic);
  if (!t) {
    const fns = new Set<Listener>();
    const off = pb.realtime.subscribe(topic, (e) => {
      for (const f of [...fns]) {
        try { f(e); } catch (err) { console.error(err); }
      }
    }).catch(() => null); // the SDK keeps the topic and sends it when it connects
    t = { fns, off, timer: 0 };
    topics.set(topic, t);
  }
  const topicState = t;
  clearTimeout(topicState.timer);
  topicState.fns.add(fn);
  const stop = () => {
    if (!topicState.fns.delete(fn) || topicState.fns.size) return;
    clearTimeout(topicState.timer);
    topicState.timer = window.setTimeout(() => {
      if (topicState.fns.size || topics.get(topic) !== topicState) return;
      topics.delete(topic);
      topicState.off.then((off) => off?.()).catch(() => {});
    }, linger);
  };
  return Object.assign(stop, { ready: topicState.off.then(() => {}) });
}

// forgetTopics: the session ended and the SDK dropped every subscription.
export function forgetTopics() {
  topics.forEach((t) => clearTimeout(t.timer));
  topics.clear();
}
