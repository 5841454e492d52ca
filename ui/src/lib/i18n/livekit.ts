// Strings of the live and call pages on a salon whose media backend is
// LiveKit.
export const en = {
  'livekit.noObs': 'This salon streams through LiveKit: go live from this page (camera or screen). Publishing from OBS with a stream key is not available here.',
};

export const ja: Record<keyof typeof en, string> = {
  'livekit.noObs': 'このサロンの配信は LiveKit 経由です。このページから配信してください（カメラまたは画面）。OBS からストリームキーで配信することはできません。',
};
