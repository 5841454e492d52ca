import { pb } from './pb';
import { inOrder, type Seen } from './order';

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

//
// options are the SDK's subscription options ({filter, expand, ...}): the
// same topic with other options is another subscription.
export function listen(topic: string, fn: Listener, options?: Record<string, any>): Unlisten {
  const key = options ? topic + '?' + JSON.stringify(options) : topic;
  let t = topics.get(key);
  if (!t) {
    const fns = new Set<Listener>();
    const seen = new Map<string, Seen>();
    const off = pb.realtime.subscribe(topic, (e) => {
      const ev = inOrder(seen, e);
      if (!ev) return;
      for (const f of [...fns]) {
        try { f(ev); } catch (err) { console.error(err); }
      }
    }, options).catch(() => null); // the SDK keeps the topic and sends it when it connects
    t = { fns, off, timer: 0 };
    topics.set(key, t);
  }
  const topicState = t;
  clearTimeout(topicState.timer);
  topicState.fns.add(fn);
  const stop = () => {
    if (!topicState.fns.delete(fn) || topicState.fns.size) return;
    clearTimeout(topicState.timer);
    topicState.timer = window.setTimeout(() => {
      if (topicState.fns.size || topics.get(key) !== topicState) return;
      topics.delete(key);
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

