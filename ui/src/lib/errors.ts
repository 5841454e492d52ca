import { ClientResponseError } from 'pocketbase';
import { t, has, i18n, type Key } from './i18n.svelte';

// Refusals carry a stable code ({data: {reason: {code, message}}}; older
// routes: {data: {code}} or {data: {<field>: {code, message}}}). Each code
// has a sentence in both languages (an English one may quote the server's
// English detail); an unknown code falls back to the server's own message.

// English messages of refusals that have no code yet.
const byMessage: [RegExp, string][] = [
  [/^Wrong password/i, 'wrong_password'],
  [/^Too many wrong passwords/i, 'too_many_attempts'],
  [/account is suspended/i, 'account_suspended'],
  [/^Failed to authenticate/i, '__login'],
];

export function reasonCode(err: any): string {
  const data = err?.response?.data ?? err?.data ?? {};
  if (data?.reason?.code) return String(data.reason.code);
  if (typeof data?.code === 'string') return data.code;
  if (data?.recipient?.code && !String(data.recipient.code).startsWith('validation_')) return data.recipient.code;
  const msg = String(err?.response?.message ?? err?.message ?? '');
  for (const [re, code] of byMessage) if (re.test(msg)) return code;
  return '';
}

export function serverMessage(err: any): string {
  return String(err?.response?.data?.reason?.message ?? err?.response?.message ?? err?.message ?? '');
}

// explain turns any error from the SDK into a sentence in the member's language.
export function explain(err: any): string {
  if (!(err instanceof ClientResponseError) && !err?.response) {
    return t('err.generic', { message: String(err?.message ?? err) });
  }
  const status: number = err.status ?? 0;
  const code = reasonCode(err);
  const msg = serverMessage(err);
  if (code === '__login') return t('err.login');
  if (code && has('err.code.' + code)) {
    // the server's detail is English: only an English sentence may carry it
    if (i18n.lang === 'en') return t(('err.code.' + code) as Key, { message: msg });
    return t(('err.code.' + code) as Key, { message: '' }).replace(/\s*[（(]\s*[）)]/g, '');
  }
  if (status === 0) return t('err.network');
  // validation errors: {data: {field: {code, message}}}
  const data = err.response?.data ?? {};
  const fields = Object.entries(data).filter(([, v]: any) => v && typeof v === 'object' && v.code);
  if (fields.length) {
    return fields.map(([f, v]: any) => {
      const k = 'err.' + v.code;
      const m = has(k) ? t(k as Key) : v.message;
      return t('err.field', { field: fieldName(f), message: m });
    }).join(' ');
  }
  if (status === 429) return t('err.rate');
  if (status === 413) return t('err.tooLarge');
  if (msg && !/^(Failed to|Something went wrong|The requested resource wasn't found)/i.test(msg)) {
    // an English sentence from the server: better than a generic one
    return i18n.lang === 'en' ? msg : t('err.generic', { message: msg });
  }
  if (status === 401) return t('err.auth');
  if (status === 403) return t('err.forbidden');
  if (status === 404) return t('err.notFound');
  return t('err.generic', { message: msg || String(status) });
}

function fieldName(f: string): string {
  const map: Record<string, Key> = {
    email: 'auth.email', password: 'auth.password', passwordConfirm: 'auth.passwordConfirm', name: 'auth.name',
    invite_code: 'auth.inviteCode', subject: 'dm.subject', body: 'dm.body', attachments: 'dm.attachments',
    bio: 'profile.bio', avatar: 'profile.avatar', recipient: 'dm.to',
    stream: 'events.stream', cover: 'events.cover', ends_at: 'ui2.endsAt', timezone: 'ui2.timezone',
  };
  return map[f] ? t(map[f]) : f;
}
