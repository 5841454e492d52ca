// Event editor helpers: times typed as wall-clock time in the event's time
// zone (an <input type=datetime-local> has none) turned into UTC instants,
// and back; the zone list; plain-text descriptions as safe HTML.

// offsetMs is how far zone's wall clock is ahead of UTC at instant t.
function offsetMs(t: number, zone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', second: '2-digit',
  }).formatToParts(new Date(t));
  const n = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'), n('second')) - Math.floor(t / 1000) * 1000;
}

// wallToISO reads "2030-12-01T19:00" as a time in zone and answers the
// instant as ISO 8601 UTC ("" for an empty or malformed input).
export function wallToISO(local: string, zone: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(local);
  if (!m) return '';
  const guess = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5]);
  // twice: the offset at the guess can differ from the one at the answer
  // (a daylight-saving change between them)
  let t = guess - offsetMs(guess, zone);
  t = guess - offsetMs(t, zone);
  return new Date(t).toISOString();
}

// isoToWall shows a stored instant as "2030-12-01T19:00" in zone.
export function isoToWall(iso: string, zone: string): string {
  if (!iso) return '';
  const d = new Date(iso.replace(' ', 'T'));
  if (isNaN(d.getTime())) return '';
  const w = new Date(d.getTime() + offsetMs(d.getTime(), zone));
  return w.toISOString().slice(0, 16);
}

export function zones(current: string): string[] {
  const all: string[] = typeof (Intl as any).supportedValuesOf === 'function' ? (Intl as any).supportedValuesOf('timeZone') : [];
  return all.includes(current) ? all : [current, ...all];
}

// textToHTML keeps a plain-text description's paragraphs and line breaks,
// escaped (the editor field stores HTML).
export function textToHTML(text: string): string {
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return text.split(/\n{2,}/).map((p) => p.trim()).filter(Boolean).map((p) => '<p>' + esc(p).replace(/\n/g, '<br>') + '</p>').join('');
}

// htmlToText is the text an organizer edits for a stored description.
export function htmlToText(html: string): string {
  if (!html) return '';
  const doc = new DOMParser().parseFromString(html.replace(/<br\s*\/?>/gi, '\n').replace(/<\/(p|div|h\d|li)>/gi, '$&\n\n'), 'text/html');
  return (doc.body.textContent ?? '').replace(/\n{3,}/g, '\n\n').trim();
}
