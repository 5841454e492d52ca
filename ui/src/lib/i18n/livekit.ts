// Strings of the live and call pages on a salon whose media backend is
// LiveKit.
export const en = {
  'livekit.noObs': 'This salon streams through LiveKit: go live from this page (camera or screen). Publishing from OBS with a stream key is not available here.',
  'livekit.noRecording': 'Recording is not available on this salon: its live streams run on LiveKit, which this salon does not record.',
};

export const ja: Record<keyof typeof en, string> = {
  'livekit.noObs': 'このサロンの配信は LiveKit 経由です。このページから配信してください（カメラまたは画面）。OBS からストリームキーで配信することはできません。',
  'livekit.noRecording': 'このサロンでは録画できません（ライブ配信は LiveKit で行われ、録画の対象外です）。',
};
