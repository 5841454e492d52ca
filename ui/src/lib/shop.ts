import { pb } from './pb';
import type { ProductRec } from './records';
import { i18n } from './i18n.svelte';
import { parse } from './events';

// Shop helpers. Amounts are in the currency's smallest unit, as Stripe
// counts them (1500 jpy = ¥1,500; 1500 usd = $15.00).

export function money(amount: number, currency: string): string {
  const cur = (currency || 'jpy').toUpperCase();
  try {
    const f = new Intl.NumberFormat(i18n.lang === 'ja' ? 'ja-JP' : 'en-US', { style: 'currency', currency: cur });
    const d = f.resolvedOptions().maximumFractionDigits ?? 0;
    return f.format(amount / 10 ** d);
  } catch {
    return amount + ' ' + cur;
  }
}

export type SaleState = 'available' | 'not_yet' | 'ended' | 'sold_out' | 'inactive';

// saleState mirrors the server's rule, so a window that opens or closes
// while the page is open shows without a reload.
export function saleState(p: ProductRec, now = Date.now()): SaleState {
  if (p.active === false) return 'inactive';
  const starts = parse(p.sale_starts), ends = parse(p.sale_ends);
  if (starts && now < starts.getTime()) return 'not_yet';
  if (ends && now >= ends.getTime()) return 'ended';
  if (!p.unlimited && (p.stock ?? 0) <= 0) return 'sold_out';
  return 'available';
}

export function maxQuantity(p: ProductRec): number {
  const limit = p.max_per_order > 0 ? p.max_per_order : 100;
  return p.unlimited ? limit : Math.max(0, Math.min(limit, p.stock ?? 0));
}

let status: Promise<boolean> | null = null;
// paymentsOn: whether the salon has Stripe keys (asked once per page load).
export function paymentsOn(): Promise<boolean> {
  if (!status) {
    status = pb.send('/api/salon/shop/status', {}).then((r: any) => !!r.payments).catch(() => { status = null; return false; });
  }
  return status;
}

export async function checkout(product: string, quantity: number): Promise<{ order: string; url: string }> {
  return pb.send('/api/salon/shop/checkout', { method: 'POST', body: { product, quantity } });
}

export async function cancelOrder(id: string) {
  return pb.send('/api/salon/shop/orders/' + encodeURIComponent(id) + '/cancel', { method: 'POST' });
}
