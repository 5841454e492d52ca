// Sentences for the refusal codes of docs/refusal-codes.md that had none
// (e2e/refusal-sentences.test.mjs checks that every documented code has
// one in both languages).
const en = {
  'err.code.block_self': 'You cannot block yourself.',
  'err.code.follow_self': 'You cannot follow yourself.',
  'err.code.caller_required': 'The call could not be started. Reload the page and try again.',
  'err.code.storage_full': 'The server cannot store this right now. Nothing was saved: please try again later.',
  'err.code.link_too_long': 'A guest link can last at most 90 days from its creation.',
  'err.code.body_too_large': 'This is too large to send. Send files as attachments.',
  'err.code.too_many_keys': 'This request has too many fields. Reload the page and try again.',
  'err.code.private_field': 'This search uses a private field. Reload the page and try again.',
};

const ja: Record<keyof typeof en, string> = {
  'err.code.block_self': '自分自身はブロックできません。',
  'err.code.follow_self': '自分自身はフォローできません。',
  'err.code.caller_required': '通話を開始できませんでした。ページを再読み込みしてもう一度お試しください。',
  'err.code.storage_full': 'サーバーが現在保存できない状態です。何も保存されていません。しばらくしてからもう一度お試しください。',
  'err.code.link_too_long': 'ゲストリンクの有効期限は作成から最長90日です。',
  'err.code.body_too_large': '送信するには大きすぎます。ファイルは添付として送ってください。',
  'err.code.too_many_keys': 'リクエストの項目が多すぎます。ページを再読み込みしてもう一度お試しください。',
  'err.code.private_field': 'この検索は非公開の項目を使っています。ページを再読み込みしてもう一度お試しください。',
};

export default { en, ja };
