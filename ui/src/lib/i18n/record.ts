// Strings of live stream recordings (the replay under an ended stream and
// the host's choice to record).
export const en = {
  'record.choose': 'Record this stream for replay (members who may watch it can replay it afterwards)',
  'record.player': 'Recording of the stream',
  'record.title': 'Replay',
  'record.loading': 'Loading the recording…',
  'record.delete': 'Delete the recording',
  'record.confirmDelete': 'Delete the recording for good? Members will no longer be able to replay it.',
  'record.deleted': 'The recording was deleted.',
  'record.unavailable': 'The recording cannot be played.',
};

export const ja: Record<keyof typeof en, string> = {
  'record.choose': 'この配信を録画する（視聴できるメンバーが終了後にアーカイブで見られます）',
  'record.player': '配信の録画',
  'record.title': 'アーカイブ',
  'record.loading': '録画を読み込んでいます…',
  'record.delete': '録画を削除',
  'record.confirmDelete': '録画を完全に削除しますか？メンバーはアーカイブを見られなくなります。',
  'record.deleted': '録画を削除しました。',
  'record.unavailable': '録画を再生できません。',
};
