import type { Rec } from './pb';

// The fields of the collections the events, forum and shop screens read,
// as the server answers them (dates as "2030-12-01 10:00:00.000Z", empty
// relations and dates as ""). Other fields stay reachable through Rec.

export interface EventRec extends Rec {
  title: string;
  description: string;
  kind: 'live' | 'meetup' | 'offline' | 'seminar' | 'other';
  starts_at: string;
  ends_at: string;
  timezone: string;
  location: string;
  online_url: string;
  stream: string;
  capacity: number;
  min_rank: string;
  cover: string;
  published: boolean;
  cancelled: boolean;
  organizer: string;
}

export interface RSVPRec extends Rec {
  event: string;
  user: string;
  status: 'going' | 'waitlist' | 'cancelled';
  waitlisted_at: string;
}

export interface LiveStreamRec extends Rec {
  host: string;
  title: string;
  status: 'scheduled' | 'live' | 'ended';
  scheduled_at: string;
  min_rank: string;
}

export interface MemberRec extends Rec {
  name: string;
  role: '' | 'member' | 'tutor' | 'admin';
  rank: string;
  avatar: string;
}

export interface CategoryRec extends Rec {
  name: string;
  min_rank: string;
  post_min_rank: string;
  admin_topics_only: boolean;
}

export interface TopicRec extends Rec {
  category: string;
  author: string;
  title: string;
  body: string;
  tags: string[] | null;
  question: boolean;
  pinned: boolean;
  locked: boolean;
  answer: string;
  post_count: number;
  last_post_at: string;
  edited_at: string;
}

export interface PostRec extends Rec {
  topic: string;
  author: string;
  body: string;
  quote: string;
  reply_to: string;
  attachments: string[];
  edited_at: string;
}

export interface FollowRec extends Rec {
  user: string;
  topic: string;
  category: string;
}

export interface ProductRec extends Rec {
  name: string;
  description: string;
  images: string[];
  price: number;
  currency: string;
  stock: number;
  unlimited: boolean;
  max_per_order: number;
  sale_starts: string;
  sale_ends: string;
  active: boolean;
}
