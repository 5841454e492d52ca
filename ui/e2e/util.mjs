import { deflateSync } from 'node:zlib';

// waitText waits until the locator's text contains want (or matches it).
export async function waitText(locator, want, timeout = 15000) {
  const end = Date.now() + timeout;
  let last = '';
  while (Date.now() < end) {
    try { last = (await locator.innerText({ timeout: 1000 })) ?? ''; } catch { last = ''; }
    if (typeof want === 'string' ? last.includes(want) : want.test(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${want} in ${locator}; last text: ${last.slice(0, 300)}`);
}

export async function waitCount(locator, n, timeout = 15000) {
  const end = Date.now() + timeout;
  let c = -1;
  while (Date.now() < end) {
    c = await locator.count();
    if (c === n) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${n} of ${locator}; have ${c}`);
}

// png makes a solid-colour PNG of w×h pixels (for avatar and attachment uploads).
export function png(w, h, rgb = [200, 80, 30]) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => { let c = 0xffffffff; for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8); return (c ^ 0xffffffff) >>> 0; };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type), data]);
    const c = Buffer.alloc(4); c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0); ihdr.writeUInt32BE(h, 4); ihdr[8] = 8; ihdr[9] = 2;
  const row = Buffer.alloc(1 + w * 3);
  for (let x = 0; x < w; x++) row.set(rgb, 1 + x * 3);
  const raw = Buffer.concat(Array.from({ length: h }, () => row));
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}
