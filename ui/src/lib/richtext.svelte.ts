// Message bodies without the Markdown renderer on the first screen: plain
// lines (most chat) are escaped here, and the renderer (marked + DOMPurify,
// the largest part of a chat page's code) loads alongside the page's data.
// Until it is there a formatted message shows its text as written; it is
// drawn again, formatted, the moment the renderer arrives.

type Md = typeof import('./md');
const state = $state<{ md: Md | null }>({ md: null });
let loading: Promise<Md> | null = null;

export function loadMarkdown(): Promise<Md> {
  if (!loading) loading = import('./md').then((m) => (state.md = m));
  return loading;
}

const plain = /^[^*_`#~|<>\[\]!&\n\\]*$/;

export function escapeHTML(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

// isPlain: nothing Markdown would change (no markup, links or lists)
export function isPlain(text: string): boolean {
  return plain.test(text) && !/(https?:\/\/|www\.|^\s*([-+]|\d+\.)\s)/i.test(text);
}

// richText returns safe HTML for a message body. Reading state.md makes a
// template that calls it draw again when the renderer arrives.
export function richText(text: string): string {
  text = text ?? '';
  if (isPlain(text)) return '<p>' + escapeHTML(text) + '</p>';
  const md = state.md;
  if (md) return md.renderMarkdown(text);
  loadMarkdown();
  return '<p>' + escapeHTML(text).replace(/\n/g, '<br>') + '</p>';
}

export function isImage(name: string) { return /\.(png|jpe?g|gif|webp|avif)$/i.test(name); }
export function isVideo(name: string) { return /\.(mp4|webm|mov|m4v)$/i.test(name); }
