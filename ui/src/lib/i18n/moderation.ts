// Words of the moderation screens (the reports queue's reported messages).
const en = {
  'mod.reportedMessage': 'Reported message',
  'mod.dmFrom': 'From {from} to {to}',
  'mod.deleteForEveryone': 'Delete for everyone',
  'mod.confirmDelete': 'Delete this message for both people in the conversation? This cannot be undone.',
  'mod.deletedForEveryone': 'Deleted for everyone.',
  'mod.messageGone': 'This message no longer exists.',
};

const ja: Record<keyof typeof en, string> = {
  'mod.reportedMessage': '通報されたメッセージ',
  'mod.dmFrom': '{from} さんから {to} さんへ',
  'mod.deleteForEveryone': '全員に対して削除',
  'mod.confirmDelete': 'このメッセージを会話の双方から削除しますか？元に戻せません。',
  'mod.deletedForEveryone': '全員に対して削除しました。',
  'mod.messageGone': 'このメッセージはもう存在しません。',
};

export default { en, ja };
