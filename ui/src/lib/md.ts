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

// Parsed messages are cached, since a message is drawn again whenever it
// scrolls back in. Plain lines never reach here (richtext.svelte.ts).
const cache = new Map<string, string>();

export function renderMarkdown(text: string): string {
  text = text ?? '';
  let html = cache.get(text);
  if (html === undefined) {
    html = DOMPurify.sanitize(marked.parse(text, { async: false }) as string, { FORBID_TAGS: ['style', 'img', 'iframe', 'form', 'input'] });
    if (cache.size > 2000) cache.clear();
    cache.set(text, html);
  }
  return html;
}


export { isImage, isVideo } from './richtext.svelte';
