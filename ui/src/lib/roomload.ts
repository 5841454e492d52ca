import { pb, type Rec } from './pb';

// A room's first screen: main.ts starts its requests (the room, the
// member's membership, the latest page) at once, while the room's code is
// still on its way; the page takes them instead of asking again.

export const ROOM_PAGE = 50;

export type RoomLoad = {
  id: string;
  room: Promise<Rec>;
  member: Promise<Rec | null>;
  latest: Promise<Rec[]>;
};

export function loadRoom(id: string): RoomLoad {
  const user = pb.authStore.record;
  const member = user && user.collectionName === 'users'
    ? pb.collection('room_members').getFirstListItem(pb.filter('room = {:r} && user = {:u}', { r: id, u: user.id }))
      .then((r) => r as unknown as Rec).catch(() => null)
    : Promise.resolve(null);
  const load = {
    id,
    room: pb.collection('rooms').getOne(id).then((r) => r as unknown as Rec),
    member,
    latest: pb.collection('room_messages').getList(1, ROOM_PAGE, { filter: pb.filter('room = {:r}', { r: id }), sort: '-created,-id', skipTotal: true })
      .then((res) => res.items as unknown as Rec[]),
  };
  // a page that never takes them must not leave rejections unhandled
  load.room.catch(() => {});
  load.latest.catch(() => {});
  return load;
}

let early: RoomLoad | null = null;

// preloadRoom starts a room's requests when the address is a room's (and
// does not ask for one message, which loads the page around it instead);
// true when it did
export function preloadRoom(path: string, search: string): boolean {
  const m = path.match(/^\/rooms\/([a-z0-9]+)$/i);
  if (!m || new URLSearchParams(search).has('message') || !pb.authStore.isValid) return false;
  early = loadRoom(m[1]);
  return true;
}

// takeRoomPreload hands the early requests to the page, once
export function takeRoomPreload(id: string): RoomLoad | null {
  const p = early;
  early = null;
  return p && p.id === id ? p : null;
}
