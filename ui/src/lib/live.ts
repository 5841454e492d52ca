import { ClientResponseError } from 'pocketbase';
import { pb } from './pb';

// WHIP/WHEP-style media sessions against the embedded media server
// (/api/rtc/...): one peer connection per session, the SDP exchange as one
// POST, the session's Location for ICE restarts (PATCH) and leaving (DELETE).

export async function iceServers(): Promise<RTCIceServer[]> {
  try {
    const res = await pb.send('/api/rtc/ice-servers', {});
    return res.iceServers ?? [];
  } catch {
    return []; // host candidates still work on the same network
  }
}

// gathered waits for ICE gathering (the server takes the offer with all
// candidates, no trickle), at most a few seconds.
function gathered(pc: RTCPeerConnection, ms = 3000): Promise<void> {
  return new Promise((resolve) => {
    if (pc.iceGatheringState === 'complete') return resolve();
    const done = () => { pc.removeEventListener('icegatheringstatechange', check); clearTimeout(timer); resolve(); };
    const check = () => { if (pc.iceGatheringState === 'complete') done(); };
    const timer = setTimeout(done, ms);
    pc.addEventListener('icegatheringstatechange', check);
  });
}

// mediaError turns the media server's answer (PocketBase's error shape)
// into the SDK's error, so explain() words it like any other refusal.
async function mediaError(url: string, res: Response): Promise<ClientResponseError> {
  let data: any = {};
  try { data = await res.json(); } catch { /* not JSON */ }
  return new ClientResponseError({ url, status: res.status, response: data });
}

export class MediaSession {
  pc: RTCPeerConnection;
  location = '';
  etag = '';
  closed = false;

  constructor(pc: RTCPeerConnection) {
    this.pc = pc;
  }

  // open sends the offer to url and applies the answer.
  async open(url: string, token: string): Promise<void> {
    await this.pc.setLocalDescription(await this.pc.createOffer());
    await gathered(this.pc);
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST', body: this.pc.localDescription!.sdp,
        headers: { 'Content-Type': 'application/sdp', Authorization: 'Bearer ' + token },
      });
    } catch (err) {
      throw new ClientResponseError({ url, status: 0, originalError: err });
    }
    if (res.status !== 201) throw await mediaError(url, res);
    this.location = res.headers.get('Location') ?? '';
    this.etag = res.headers.get('ETag') ?? '';
    await this.pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
  }

  // restartIce asks the server for new ICE credentials over the same
  // session (RFC 9725 §4.3): a network change without a new session.
  async restartIce(): Promise<void> {
    if (!this.location) throw new Error('no session');
    this.pc.restartIce();
    await this.pc.setLocalDescription(await this.pc.createOffer({ iceRestart: true }));
    await gathered(this.pc);
    const lines = this.pc.localDescription!.sdp.split('\r\n');
    const first = (p: string) => lines.find((l) => l.startsWith(p)) ?? '';
    const m = lines.findIndex((l) => l.startsWith('m='));
    let next = lines.findIndex((l, i) => i > m && l.startsWith('m='));
    if (next < 0) next = lines.length;
    const cands = lines.slice(m, next).filter((l) => l.startsWith('a=candidate:'));
    const frag = [first('a=ice-ufrag:'), first('a=ice-pwd:'), lines[m], first('a=mid:'), ...cands, 'a=end-of-candidates', ''].join('\r\n');
    const res = await fetch(this.location, {
      method: 'PATCH', body: frag,
      headers: { 'Content-Type': 'application/trickle-ice-sdpfrag', 'If-Match': '*' },
    });
    if (res.status !== 200) {
      // put the connection back in a stable state before giving up
      try { await this.pc.setLocalDescription({ type: 'rollback' }); } catch { /* closed */ }
      throw await mediaError(this.location, res);
    }
    this.etag = res.headers.get('ETag') ?? this.etag;
    const got = (await res.text()).split('\r\n');
    const remote = this.pc.currentRemoteDescription!.sdp.split('\r\n')
      .filter((l) => l && !l.startsWith('a=candidate:') && l !== 'a=end-of-candidates');
    const sdp: string[] = [];
    let placed = false;
    for (const l of remote) {
      if (l.startsWith('a=ice-ufrag:')) sdp.push(got.find((g) => g.startsWith('a=ice-ufrag:')) ?? l);
      else if (l.startsWith('a=ice-pwd:')) sdp.push(got.find((g) => g.startsWith('a=ice-pwd:')) ?? l);
      else sdp.push(l);
      if (l.startsWith('a=mid:') && !placed) { sdp.push(...got.filter((g) => g.startsWith('a=candidate:'))); placed = true; }
    }
    await this.pc.setRemoteDescription({ type: 'answer', sdp: sdp.join('\r\n') + '\r\n' });
  }

  // close leaves: DELETE tells the server at once (keepalive: also while
  // the page unloads), then the peer connection goes.
  close() {
    if (this.closed) return;
    if (this.location) fetch(this.location, { method: 'DELETE', keepalive: true }).catch(() => {});
    this.drop();
  }

  // drop closes the connection without telling the server: for a
  // publisher, the server then waits for it to come back (a DELETE would
  // end the stream or the call).
  drop() {
    this.closed = true;
    this.pc.close();
  }
}

// Simulcast layers of a live camera: the server forwards each viewer the
// one its connection carries (a phone on a weak network gets 'q').
const simulcastLayers: RTCRtpEncodingParameters[] = [
  { rid: 'q', scaleResolutionDownBy: 4, maxBitrate: 150_000 },
  { rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { rid: 'f', maxBitrate: 2_500_000 },
];

// publish sends tracks (camera, microphone or a screen) to url; with
// simulcast, video goes in three layers (a live stream's camera).
export async function publish(url: string, tracks: MediaStreamTrack[], simulcast = false): Promise<MediaSession> {
  const pc = new RTCPeerConnection({ iceServers: await iceServers() });
  for (const t of tracks) {
    const layers = simulcast && t.kind === 'video' ? { sendEncodings: simulcastLayers } : {};
    pc.addTransceiver(t, { direction: 'sendonly', ...layers });
  }
  const s = new MediaSession(pc);
  try {
    await s.open(url, pb.authStore.token);
  } catch (err) {
    pc.close();
    throw err;
  }
  return s;
}

// receive opens a receive-only session (one video, one audio) and gives
// the incoming tracks as one MediaStream.
export async function receive(url: string): Promise<{ session: MediaSession; stream: MediaStream }> {
  const pc = new RTCPeerConnection({ iceServers: await iceServers() });
  const stream = new MediaStream();
  pc.addTransceiver('video', { direction: 'recvonly' });
  pc.addTransceiver('audio', { direction: 'recvonly' });
  pc.ontrack = (e) => { if (!stream.getTracks().includes(e.track)) stream.addTrack(e.track); };
  const s = new MediaSession(pc);
  try {
    await s.open(url, pb.authStore.token);
  } catch (err) {
    pc.close();
    throw err;
  }
  return { session: s, stream };
}

type Status = 'connecting' | 'connected' | 'reconnecting' | 'closed';

// Resilient keeps a session alive through network drops and server
// restarts: a connection that stays disconnected first gets an ICE restart
// over the same session (PATCH); when that fails (the server forgot the
// session, e.g. after a restart) a new session is opened, with growing
// pauses, until it works or gone() says there is no point any more.
export class Resilient {
  session: MediaSession | null = null;
  private stopped = false;
  private timer = 0;
  private attempt = 0;

  constructor(
    private connect: () => Promise<MediaSession>,
    private onStatus: (s: Status, err?: unknown) => void,
    private gone: (err: unknown) => Promise<boolean>,
  ) {}

  async start() {
    this.stopped = false;
    await this.open(true);
  }

  private async open(first: boolean) {
    if (this.stopped) return;
    this.onStatus(first ? 'connecting' : 'reconnecting');
    try {
      const s = await this.connect();
      if (this.stopped) { s.drop(); return; }
      this.session?.drop();
      this.session = s;
      this.attempt = 0;
      this.watch(s);
    } catch (err) {
      if (first && this.attempt === 0 && !(err instanceof ClientResponseError && err.status === 0)) {
        // the first refusal is an answer (not live yet, not allowed): say it
        this.onStatus('closed', err);
        this.stopped = true;
        return;
      }
      if (await this.gone(err)) { this.stop(); this.onStatus('closed', err); return; }
      this.retryLater();
    }
  }

  private retryLater() {
    if (this.stopped) return;
    clearTimeout(this.timer);
    const wait = Math.min(500 * 2 ** this.attempt, 5000);
    this.attempt++;
    this.timer = window.setTimeout(() => this.open(false), wait);
  }

  private watch(s: MediaSession) {
    let graceTimer = 0;
    const check = async () => {
      if (this.stopped || this.session !== s) return;
      const st = s.pc.connectionState;
      if (st === 'connected') {
        clearTimeout(graceTimer); graceTimer = 0;
        this.onStatus('connected');
        return;
      }
      // failed, or closed by the server (not by us): a new session
      if (st === 'failed' || (st === 'closed' && !s.closed)) { clearTimeout(graceTimer); return this.renew(s); }
      if (st === 'disconnected' && !graceTimer) {
        this.onStatus('reconnecting');
        // a short blip recovers by itself; after that, restart ICE
        graceTimer = window.setTimeout(async () => {
          graceTimer = 0;
          if (this.stopped || this.session !== s || s.pc.connectionState === 'connected') return;
          try {
            await s.restartIce();
            // the restart gets a few seconds to connect before a new session
            graceTimer = window.setTimeout(() => {
              graceTimer = 0;
              if (this.session === s && s.pc.connectionState !== 'connected') this.renew(s);
            }, 4000);
          } catch {
            this.renew(s);
          }
        }, 1500);
      }
    };
    s.pc.addEventListener('connectionstatechange', check);
    check();
  }

  private renew(s: MediaSession) {
    if (this.stopped || this.session !== s) return;
    s.drop();
    this.session = null;
    this.onStatus('reconnecting');
    this.retryLater();
  }

  // stop ends the session: with leave, the server hears it at once
  // (DELETE); without, it is a drop the server may wait out.
  stop(leave = true) {
    this.stopped = true;
    clearTimeout(this.timer);
    if (leave) this.session?.close();
    else this.session?.drop();
    this.session = null;
  }
}

// firstFrame calls cb once when the video element has its first frame
// (its size is known from the first decoded frame on).
export function firstFrame(video: HTMLVideoElement, cb: () => void) {
  let done = false;
  const fire = () => {
    if (done || video.videoWidth === 0) return;
    done = true;
    video.removeEventListener('resize', fire);
    video.removeEventListener('loadeddata', fire);
    video.removeEventListener('timeupdate', fire);
    cb();
  };
  video.addEventListener('resize', fire);
  video.addEventListener('loadeddata', fire);
  video.addEventListener('timeupdate', fire);
}

export async function cameraAndMic(videoId = '', audioId = '', facing = ''): Promise<MediaStream> {
  const video: MediaTrackConstraints = { width: { ideal: 1280 }, height: { ideal: 720 } };
  if (videoId) video.deviceId = { exact: videoId };
  else if (facing) video.facingMode = facing;
  const audio: MediaTrackConstraints = audioId ? { deviceId: { exact: audioId } } : {};
  return navigator.mediaDevices.getUserMedia({ video, audio: Object.keys(audio).length ? audio : true });
}
