/**
 * What the page and the frame transform worker (worker/frameWorker.ts) say
 * to each other. The page hands over base keys (CryptoKeys, which cross
 * postMessage without their bytes); the worker tells of each receiver that
 * stops or starts decrypting, and counts.
 */

import type { TransformCounts, TransformOptions } from '../hookTypes';

export type { TransformCounts, TransformOptions } from '../hookTypes';

/** page -> worker: seal with this base key from now on (`generation` is echoed when it is in use). */
export type PageMessage = { type: 'key'; baseKey: CryptoKey; generation: number };

/** Whether a receiver's frames open: `undecryptable` after a run of frames that did not. */
export type ReceiverState = 'decrypting' | 'undecryptable';

/** worker -> page. */
export type WorkerMessage =
	| { type: 'keyInUse'; generation: number }
	| { type: 'receiver'; id: string; state: ReceiverState }
	| { type: 'counts'; at: number; transforms: TransformCounts[] };
