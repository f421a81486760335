/**
 * What the page and the frame transform worker (worker/frameWorker.ts) say
 * to each other. The page hands over base keys (CryptoKeys, which cross
 * postMessage without their bytes); the worker tells of each receiver that
 * stops or starts decrypting, and counts.
 */

import type { TransformCounts, TransformOptions } from '../hookTypes';
import type { WebKey } from './sframe';

export type { TransformCounts, TransformOptions } from '../hookTypes';

/**
 * page -> worker. `key`: seal (and open) with this base key of a shared
 * secret from now on. A call's sender keys: `sendKey` seals with this base
 * key under `kid`; `receiveKey` opens `sender`'s frames of `kid`; `forget`
 * drops a sender's keys. `generation` is echoed when the key is in use.
 */
export type PageMessage =
	| { type: 'key'; baseKey: WebKey; generation: number }
	| { type: 'sendKey'; baseKey: WebKey; kid: bigint; generation: number }
	| { type: 'receiveKey'; sender: string; kid: bigint; baseKey: WebKey }
	| { type: 'forget'; sender: string };

/** Whether a receiver's frames open: `undecryptable` after a run of frames that did not. */
export type ReceiverState = 'decrypting' | 'undecryptable';

/** worker -> page. */
export type WorkerMessage =
	| { type: 'keyInUse'; generation: number }
	| { type: 'receiver'; id: string; state: ReceiverState }
	| { type: 'counts'; at: number; transforms: TransformCounts[] };
