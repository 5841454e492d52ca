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

export function renderMarkdown(text: string): string {
  const html = marked.parse(text ?? '', { async: false }) as string;
  return DOMPurify.sanitize(html, { FORBID_TAGS: ['style', 'img', 'iframe', 'form', 'input'] });
}

export function isImage(name: string) { return /\.(png|jpe?g|gif|webp|avif)$/i.test(name); }
export function isVideo(name: string) { return /\.(mp4|webm|mov|m4v)$/i.test(name); }
