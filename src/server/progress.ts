import { redact } from '../util/secrets.js';
import type { Extra } from './tool-result.js';

/** Progress notifications at most this often: a file transfer or a fan-out finishes parts faster. */
export const PROGRESS_INTERVAL_MS = 250;

/**
 * notifications/progress for one call: the first update at once, later ones at most one per
 * PROGRESS_INTERVAL_MS (the newest waiting one is sent when the interval has passed), and end() sends the
 * newest not yet sent and waits for it, so that it is written before the answer (a client drops progress
 * for a request it has had the answer to). Nothing without a progress token, nothing after end().
 * `message` is made only when a notification is sent.
 */
export function throttledProgress(extra: Extra) {
  const token = extra._meta?.progressToken;
  let ended = token === undefined;
  let latest: { progress: number; total: number; message?: () => string } | undefined;
  let sent: number | undefined;
  let sentAt = Number.NEGATIVE_INFINITY;
  let timer: NodeJS.Timeout | undefined;
  let pending: Promise<void> = Promise.resolve();
  const send = () => {
    clearTimeout(timer);
    timer = undefined;
    if (!latest || latest.progress === sent || token === undefined) return;
    const { progress, total, message } = latest;
    sent = progress;
    sentAt = Date.now();
    pending = extra
      .sendNotification({
        method: 'notifications/progress',
        params: { progressToken: token, progress, total, ...(message && { message: redact(message()) }) },
      })
      .catch(() => {});
  };
  return {
    update(progress: number, total: number, message?: () => string): void {
      if (ended) return;
      latest = { progress, total, ...(message && { message }) };
      const wait = sentAt + PROGRESS_INTERVAL_MS - Date.now();
      if (wait <= 0) send();
      else timer ??= setTimeout(send, wait);
    },
    async end(): Promise<void> {
      if (ended) return;
      send();
      ended = true;
      await pending;
    },
  };
}
