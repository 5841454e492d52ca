import { ClientResponseError } from 'pocketbase';
import type { Room } from 'livekit-client';
import { pb } from './pb';

// Media through LiveKit, for salons whose media backend is LiveKit
// (salon_settings.media_backend = livekit). The server says which backend
// is in use (GET /api/salon/media) and mints a token per room after the same
// checks as the embedded server (POST /api/salon/live/{id}/livekit,
// /api/salon/calls/{id}/livekit). livekit-client is large: it is imported
// only here, and only when a session starts, so members of salons on the
// embedded server never download it.

export type Backend = 'builtin' | 'livekit';

// mediaBackend asks the server which media backend to use. Without an
// answer the embedded server is assumed: its routes then refuse with a
// reason that explain() words.
export async function mediaBackend(): Promise<Backend> {
  try {
    const res = await pb.send('/api/salon/media', { requestKey: null, signal: AbortSignal.timeout(5000) });
    return res.backend === 'livekit' ? 'livekit' : 'builtin';
  } catch {
    return 'builtin';
  }
}

type Status = 'connecting' | 'connected' | 'reconnecting' | 'closed';

export type LiveKitOptions = {
  token: string; // the route that mints a token for this room
  tracks?: () => MediaStreamTrack[]; // what to publish (the host, a call party)
  simulcast?: boolean; // a live camera: three layers
  screen?: boolean; // the video is a screen
  onStream?: (stream: MediaStream) => void; // the others' tracks, as one stream
};

// LiveKitLink is Resilient's counterpart on LiveKit: one room, joined with a
// token from our server. LiveKit itself resumes a dropped connection; when
// the room is lost for good (the server removed this member, closed the
// room, or LiveKit gave up reconnecting), a new token is asked for and the
// room joined again with growing pauses, until gone() says there is no point
// (the stream ended, access was revoked: the token route then says why).
export class LiveKitLink {
  room: Room | null = null;
  private stopped = false;
  private timer = 0;
  private attempt = 0;

  constructor(
    private opts: LiveKitOptions,
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
    let room: Room | null = null;
    try {
      const grant = await pb.send(this.opts.token, { method: 'POST', requestKey: null });
      const lk = await import('livekit-client');
      room = new lk.Room({ adaptiveStream: false, dynacast: true, stopLocalTrackOnUnpublish: false });
      const stream = new MediaStream();
      room.on(lk.RoomEvent.TrackSubscribed, (track) => {
        if (!stream.getTracks().includes(track.mediaStreamTrack)) stream.addTrack(track.mediaStreamTrack);
        this.opts.onStream?.(stream);
      });
      room.on(lk.RoomEvent.TrackUnsubscribed, (track) => stream.removeTrack(track.mediaStreamTrack));
      room.on(lk.RoomEvent.Reconnecting, () => { if (this.room === room) this.onStatus('reconnecting'); });
      room.on(lk.RoomEvent.Reconnected, () => { if (this.room === room) this.onStatus('connected'); });
      room.on(lk.RoomEvent.Disconnected, () => { if (this.room === room) this.lost(room!); });
      await room.connect(grant.url, grant.token);
      if (this.stopped) { room.disconnect(false); return; }
      for (const tr of this.opts.tracks?.() ?? []) {
        const video = tr.kind === 'video';
        await room.localParticipant.publishTrack(tr, {
          source: video ? (this.opts.screen ? lk.Track.Source.ScreenShare : lk.Track.Source.Camera) : lk.Track.Source.Microphone,
          simulcast: video && !!this.opts.simulcast,
        });
      }
      if (this.stopped) { room.disconnect(false); return; }
      this.room = room;
      this.attempt = 0;
      this.opts.onStream?.(stream);
      this.onStatus('connected');
    } catch (err) {
      room?.disconnect(false);
      // LiveKit's own errors (no connection) are retried like a network
      // error; our server's refusals are answers
      const answer = err instanceof ClientResponseError && err.status !== 0;
      if (first && this.attempt === 0 && answer) {
        // the first refusal is an answer (not live yet, not allowed): say it
        this.stopped = true;
        this.onStatus('closed', err);
        return;
      }
      if (await this.gone(err)) { this.stop(); this.onStatus('closed', err); return; }
      this.retryLater();
    }
  }

  // lost: LiveKit disconnected us (removed, room closed, or gave up
  // reconnecting); a new token says whether we may come back.
  private lost(room: Room) {
    if (this.stopped || this.room !== room) return;
    this.room = null;
    this.onStatus('reconnecting');
    this.retryLater();
  }

  private retryLater() {
    if (this.stopped) return;
    clearTimeout(this.timer);
    const wait = Math.min(500 * 2 ** this.attempt, 3000);
    this.attempt++;
    this.timer = window.setTimeout(() => this.open(false), wait);
  }

  // replaceTrack puts a new camera, screen or microphone on air without
  // leaving the room.
  async replaceTrack(tr: MediaStreamTrack) {
    for (const pub of this.room?.localParticipant.trackPublications.values() ?? []) {
      if (pub.track && pub.track.kind === tr.kind) await pub.track.replaceTrack(tr, true);
    }
  }

  // stop leaves the room. LiveKit tells the server either way; the webhook
  // gives a host or call party 15 s to come back, and ending is done on
  // the record (as on the embedded server).
  stop(_leave = true) {
    this.stopped = true;
    clearTimeout(this.timer);
    const room = this.room;
    this.room = null;
    room?.disconnect(false);
  }
}
