import { pb } from './pb';
import { ClientResponseError } from 'pocketbase';

// Uploads through XMLHttpRequest, the one browser API that reports upload
// progress; errors come back as the SDK's ClientResponseError so explain()
// reads them like any other refusal.
export function sendForm(method: 'POST' | 'PATCH', path: string, form: FormData, onProgress: (pct: number) => void): Promise<any> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, pb.buildURL(path));
    if (pb.authStore.token) xhr.setRequestHeader('Authorization', pb.authStore.token);
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(Math.round((e.loaded / e.total) * 100)); };
    xhr.onload = () => {
      let data: any = {};
      try { data = JSON.parse(xhr.responseText || '{}'); } catch { /* not JSON */ }
      if (xhr.status >= 200 && xhr.status < 300) resolve(data);
      else reject(new ClientResponseError({ url: path, status: xhr.status, response: data }));
    };
    xhr.onerror = () => reject(new ClientResponseError({ url: path, status: 0, response: {} }));
    xhr.send(form);
  });
}

// filesFrom collects files from a paste or drop event.
export function filesFrom(dt: DataTransfer | null): File[] {
  if (!dt) return [];
  const out: File[] = [];
  for (const f of Array.from(dt.files || [])) out.push(f);
  return out;
}
