import type { PageMessage, ReceiverState, TransformCounts, WorkerMessage } from './messages';
import { roomBaseKey } from './sframe';

/** The frame transform worker's bundle (scripts/build-client.mjs). */
const WORKER_URL = '/assets/e2ee-worker.js';
/** A worker that has not taken a key by then is broken (its bundle missing, say): the page says so rather than wait. */
const KEY_TIMEOUT_MS = 10_000;

export type FrameCryptoListener = {
	/** A receiver (by consumer id) stopped decrypting, or decrypts again. */
	receiver(consumerId: string, state: ReceiverState): void;
	/** A new key seals this page's frames: receivers elsewhere ask for key frames, and so does this page. */
	keyChanged(): void;
	/** Every key handed to the worker, as it is handed over: the chat seals with keys derived from them (chatSeal.ts). */
	keys?(message: PageMessage): void;
};

/**
 * Why this browser cannot encrypt frames end to end, or undefined when it
 * can. NOTE: no fallback (createEncodedStreams, or sending in the clear):
 * an encrypted room refuses a browser that cannot, and says so.
 */
export function e2eeProblem(): string | undefined {
	if (typeof RTCRtpScriptTransform === 'undefined' || typeof Worker === 'undefined') {
		return 'This browser cannot encrypt calls end to end (it has no RTCRtpScriptTransform): open the link in a current Chrome, Edge, Safari or Firefox';
	}
	if (!globalThis.crypto?.subtle) {
		return 'This page is not on a secure origin (https), so the browser offers no WebCrypto for end-to-end encryption';
	}
	return undefined;
}

/**
 * The page's end-to-end encryption: one worker (frameWorker.ts) for all its
 * encoded transforms, a transform on every sender and receiver (set through
 * mediasoup-client's onRtpSender / onRtpReceiver, before any frame is
 * encoded or decoded), and the key they use. The secret stays on this page:
 * the worker gets the derived base key as a CryptoKey, the server nothing.
 */
export class FrameCrypto {
	readonly #worker: Worker;
	readonly #roomId: string;
	readonly #listener: FrameCryptoListener;
	readonly #waiting = new Map<number, () => void>();
	#generation = 0;
	#senders = 0;
	#counts: TransformCounts[] = [];
	#countsAt = 0;

	constructor(roomId: string, listener: FrameCryptoListener) {
		this.#roomId = roomId;
		this.#listener = listener;
		this.#worker = new Worker(WORKER_URL);
		this.#worker.onmessage = (event: MessageEvent<WorkerMessage>) => this.#onMessage(event.data);
		this.#worker.onerror = (event) => console.error('switchyard: the end-to-end encryption worker failed', event.message);
	}

	/** Seals with the key of `secret` from now on; resolves once the worker uses it. */
	async setSecret(secret: string): Promise<void> {
		const baseKey = await roomBaseKey(secret, this.#roomId);
		await this.#inUse((generation) => ({ type: 'key', baseKey, generation }));
	}

	/** A call: seals with the sender key `baseKey` under `kid` from now on; resolves once the worker uses it. */
	async setSendKey(baseKey: CryptoKey, kid: bigint): Promise<void> {
		await this.#inUse((generation) => ({ type: 'sendKey', baseKey, kid, generation }));
	}

	/** A call: `sender`'s frames of `kid` open with `baseKey` (its key before, for a few seconds more). */
	addReceiveKey(sender: string, kid: bigint, baseKey: CryptoKey): void {
		this.#post({ type: 'receiveKey', sender, kid, baseKey });
	}

	/** A call: `sender` left; its keys open nothing more. */
	forgetSender(sender: string): void {
		this.#post({ type: 'forget', sender });
	}

	#post(message: PageMessage): void {
		this.#worker.postMessage(message);
		this.#listener.keys?.(message);
	}

	async #inUse(message: (generation: number) => PageMessage): Promise<void> {
		const generation = ++this.#generation;
		let timer: ReturnType<typeof setTimeout> | undefined;
		const inUse = new Promise<void>((resolve, reject) => {
			this.#waiting.set(generation, resolve);
			timer = setTimeout(() => reject(new Error('the end-to-end encryption worker did not start')), KEY_TIMEOUT_MS);
		});
		this.#post(message(generation));
		try {
			await inUse;
		} finally {
			clearTimeout(timer);
			this.#waiting.delete(generation);
		}
	}

	/** For a producer (onRtpSender): its frames are sealed. */
	sender(kind: 'audio' | 'video'): (sender: RTCRtpSender) => void {
		const id = `send-${++this.#senders}`;
		return (sender) => {
			sender.transform = new RTCRtpScriptTransform(this.#worker, { side: 'send', kind, id });
		};
	}

	/** For a consumer (onRtpReceiver): its frames are opened, reported by the consumer's id. */
	receiver(consumerId: string, kind: 'audio' | 'video'): (receiver: RTCRtpReceiver) => void {
		return (receiver) => {
			receiver.transform = new RTCRtpScriptTransform(this.#worker, { side: 'recv', kind, id: consumerId });
		};
	}

	/** Each transform's counts, as of the worker's last report (about a second old). */
	get counts(): readonly TransformCounts[] {
		return this.#counts;
	}

	/** When the worker counted them (ms since the epoch; 0 before its first report). */
	get countsAt(): number {
		return this.#countsAt;
	}

	close(): void {
		this.#worker.terminate();
		for (const resolve of this.#waiting.values()) {
			resolve();
		}
		this.#waiting.clear();
	}

	#onMessage(message: WorkerMessage): void {
		if (message.type === 'keyInUse') {
			this.#waiting.get(message.generation)?.();
			this.#waiting.delete(message.generation);
			this.#listener.keyChanged();
		} else if (message.type === 'receiver') {
			this.#listener.receiver(message.id, message.state);
		} else if (message.type === 'counts') {
			this.#counts = message.transforms;
			this.#countsAt = message.at;
		}
	}
}
