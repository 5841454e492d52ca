// Sentences for the refusal codes of updates and deletes that members can
// trigger through the stock record routes (see docs/refusal-codes.md).
const en = {
  'err.code.read_only': 'This cannot be changed or deleted here.',
  'err.code.not_allowed': 'You cannot change or delete this.',
  'err.code.server_field': 'The server sets this: it cannot be changed.',
  'err.code.topic_has_replies': 'This topic has replies: only an admin can delete it now.',
  'err.code.owner_cannot_leave': 'Hand the group over to another member before you leave it.',
  'err.code.invite_used': 'This invite code has been used: disable it instead of deleting it.',
  'err.code.message_deleted': 'This message was deleted: it cannot change any more.',
};

const ja: Record<keyof typeof en, string> = {
  'err.code.read_only': 'ここでは変更も削除もできません。',
  'err.code.not_allowed': 'これを変更または削除する権限がありません。',
  'err.code.server_field': 'この項目はサーバーが設定するため、変更できません。',
  'err.code.topic_has_replies': '返信のあるトピックは、管理者しか削除できません。',
  'err.code.owner_cannot_leave': 'グループを退会する前に、ほかのメンバーにオーナーを引き継いでください。',
  'err.code.invite_used': 'この招待コードは使用済みのため削除できません。無効にしてください。',
  'err.code.message_deleted': 'このメッセージは削除済みのため、変更できません。',
};

export default { en, ja };
