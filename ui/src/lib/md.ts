import { marked } from 'marked';
import DOMPurify from 'dompurify';

// Message bodies are Markdown; what a member wrote is never trusted HTML.
marked.setOptions({ gfm: true, breaks: true });

DOMPurify.addHook('afterSanitizeAttributes', (node) => {
  if (node.tagName === 'A') {
    node.setAttribute('target', '_blank');
    node.setAttribute('rel', 'noopener noreferrer nofollow');
  }
});

// Most chat lines are plain text: they skip the parser and the sanitizer
// (escaped here), which keeps long histories cheap to render. Parsed ones
// are cached, since a message is drawn again whenever it scrolls back in.
const plain = /^[^*_`#~|<>\[\]!&\n\\]*$/;
const cache = new Map<string, string>();

function escape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function renderMarkdown(text: string): string {
  text = text ?? '';
  if (plain.test(text) && !/(https?:\/\/|www\.|^\s*([-+]|\d+\.)\s)/i.test(text)) return '<p>' + escape(text) + '</p>';
  let html = cache.get(text);
  if (html === undefined) {
    html = DOMPurify.sanitize(marked.parse(text, { async: false }) as string, { FORBID_TAGS: ['style', 'img', 'iframe', 'form', 'input'] });
    if (cache.size > 2000) cache.clear();
    cache.set(text, html);
  }
  return html;
}

export function isImage(name: string) { return /\.(png|jpe?g|gif|webp|avif)$/i.test(name); }
export function isVideo(name: string) { return /\.(mp4|webm|mov|m4v)$/i.test(name); }
