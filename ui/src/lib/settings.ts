import { pb, type Rec } from './pb';

// salon_settings is one record that members may read (its secrets are hidden).
let cached: Promise<Rec | null> | null = null;
export function salonSettings(): Promise<Rec | null> {
  if (!cached) {
    cached = pb.collection('salon_settings').getFirstListItem('').then((r) => r as Rec).catch(() => null);
  }
  return cached;
}
