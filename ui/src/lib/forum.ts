import { pb, me, isAdmin, type Rec } from './pb';

// What the forum, group and member screens share: the member's rank level
// (to show which categories they may write in before they try), topic
// pages by cursor, and refusals of the group routes in the member's words.

export const TOPIC_PAGE = 20;
export const POST_PAGE = 50;
export const MAX_ATTACHMENTS = 5;
export const MAX_ATTACHMENT_MB = 20; // forum_posts.attachments' max size

let myLevel: Promise<number> | null = null;
// rankLevel is the signed-in member's rank level (0 without a rank).
export function rankLevel(): Promise<number> {
  const rank = me()?.rank;
  if (!rank) return Promise.resolve(0);
  if (!myLevel) {
    myLevel = pb.collection('ranks').getOne(rank).then((r) => Number(r.level) || 0).catch(() => 0);
  }
  return myLevel;
}

// writeState says what the member may do in a category, before they try:
// 'topics' (open topics and reply), 'replies' (announcements: reply only)
// or 'read' (the category's post_min_rank is above their rank).
export type WriteState = 'topics' | 'replies' | 'read';
export function writeState(cat: Rec, level: number): WriteState {
  if (isAdmin()) return 'topics';
  const need = cat.expand?.post_min_rank;
  if (need && level < Number(need.level)) return 'read';
  return cat.admin_topics_only ? 'replies' : 'topics';
}

// topicCursor pages a category's unpinned topics newest activity first,
// by the last row shown (never a deep OFFSET: a category may hold 100k).
// It sorts by last_post_at alone and asks for "<=" so that SQLite walks
// idx_forum_topics_list (category, pinned, last_post_at) and stops after a
// page; an id tie-break would sort the whole category first. Rows sharing
// the last row's time come again and are dropped by id (tieCursor serves
// a page made only of such ties).
export function topicCursor(last: Rec | undefined): string {
  if (!last) return '';
  return pb.filter(' && last_post_at <= {:at}', { at: last.last_post_at });
}

export function tieCursor(last: Rec): string {
  return pb.filter(' && (last_post_at < {:at} || (last_post_at = {:at} && id < {:id}))', { at: last.last_post_at, id: last.id });
}

export type TopicFilter = { tag?: string; kind?: '' | 'questions' | 'unsolved' | 'mine'; q?: string };

export function topicFilter(category: string, f: TopicFilter): string {
  let s = pb.filter('category = {:c}', { c: category });
  if (f.tag) s += pb.filter(' && tags ~ {:tag}', { tag: '"' + f.tag + '"' });
  if (f.kind === 'questions') s += ' && question = true';
  if (f.kind === 'unsolved') s += " && question = true && answer = ''";
  if (f.kind === 'mine') s += pb.filter(' && author = {:me}', { me: me()?.id ?? '' });
  if (f.q?.trim()) s += pb.filter(' && title ~ {:q}', { q: f.q.trim() });
  return s;
}

export function parseTags(s: string): string[] {
  return [...new Set(s.split(/[,、\s]+/).map((x) => x.trim().replace(/^#/, '').toLowerCase()).filter(Boolean))];
}

export function excerpt(s: string, n = 160): string {
  const one = (s ?? '').replace(/\s+/g, ' ').trim();
  return one.length > n ? one.slice(0, n) + '…' : one;
}

// quoteOf makes the quote stored with a reply: the selected text inside the
// post if any, else the start of the post.
export function quoteOf(post: Rec): string {
  const sel = window.getSelection?.()?.toString().trim() ?? '';
  const src = sel && (post.body as string).includes(sel) ? sel : post.body;
  return excerpt(src, 300);
}

// The member's follow of a topic or a category (forum_follows), toggled.
export async function findFollow(field: 'topic' | 'category', id: string): Promise<Rec | null> {
  const res = await pb.collection('forum_follows').getList(1, 1, { filter: pb.filter('user = {:u} && ' + field + ' = {:id}', { u: me()?.id ?? '', id }), skipTotal: true });
  return (res.items[0] as Rec) ?? null;
}

export async function toggleFollow(field: 'topic' | 'category', id: string, current: Rec | null): Promise<Rec | null> {
  if (current) { await pb.collection('forum_follows').delete(current.id); return null; }
  return (await pb.collection('forum_follows').create({ [field]: id })) as Rec;
}

// A topic page keeps at most MAX_POSTS replies in the DOM: paging on drops
// the far end (it comes back by cursor), so a topic of 5,000 replies stays
// as light as one of 50.
export const MAX_POSTS = 200;

// newClientId names one draft (a reply or a new topic): sent as client_id,
// and again on every retry of that draft, so a send whose answer was lost
// is stored once (the server answers the first record).
export function newClientId(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

// retrying runs send again after a network failure (no answer at all:
// status 0), up to tries times with a growing pause; a refusal from the
// server is final. Only for sends made idempotent by a client_id.
export async function retrying<T>(send: () => Promise<T>, tries = 3): Promise<T> {
  for (let i = 1; ; i++) {
    try { return await send(); } catch (err: any) {
      if (i >= tries || (err?.status ?? -1) !== 0 || err?.isAbort) throw err;
      await new Promise((r) => setTimeout(r, 500 * i));
    }
  }
}
