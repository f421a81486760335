import { deriveFrameKey, type FrameKey, type WebKey } from './sframe';

/** How long the keys of a replaced base key still open frames: those in flight, and senders a little behind. */
export const PREVIOUS_KEY_MS = 5000;
/** Derived keys kept per base key: one per sender (key id) seen. */
const KEYS_PER_GENERATION = 256;

/** A base key and the frame keys derived from it, by key id. */
type Generation = { readonly baseKey: WebKey; readonly keys: Map<bigint, Promise<FrameKey>>; until: number };

/** What a sender seals with: its key id, the frame key, and the next counter. */
export type SendKey = { kid: bigint; ctr: bigint; frameKey: FrameKey };

/** A receive key of call mode: one sender's, by its key id. */
type ReceiveKey = { readonly sender: string; readonly frameKey: Promise<FrameKey>; until: number };

/**
 * The keys of one page. With a room's shared secret: the base key it seals
 * with now, the one before it (for PREVIOUS_KEY_MS after a change) and the
 * frame keys derived from each. In a call (sender keys, docs/e2ee.md): the
 * page's own sender key, and each other sender's, by key id (a sender's key
 * before its newest for PREVIOUS_KEY_MS).
 *
 * Every sender of the page (microphone, camera, screen) seals with one key id
 * and one counter, so no nonce is used twice under a key: the key id is drawn
 * at random (48 bits) for each base key, never taken from the server, and the
 * counter only goes up. A receiver finds a frame's key by its key id.
 */
export class KeyRing {
	#current: Generation | undefined;
	#previous: Generation | undefined;
	#send: SendKey | undefined;
	readonly #received = new Map<bigint, ReceiveKey>();
	readonly #newest = new Map<string, bigint>();
	readonly #now: () => number;
	readonly #deriveKey: (baseKey: WebKey, kid: bigint) => Promise<FrameKey>;

	/** `derive`: a key id's key from a base key (SFrame's by default; the chat's is another, chatSeal.ts). */
	constructor(now: () => number = () => Date.now(), derive: (baseKey: WebKey, kid: bigint) => Promise<FrameKey> = deriveFrameKey) {
		this.#now = now;
		this.#deriveKey = derive;
	}

	/** Seals with `baseKey` from now on; the keys of the one before open frames for PREVIOUS_KEY_MS more. */
	async setBaseKey(baseKey: WebKey): Promise<void> {
		const kid = randomKid();
		const generation: Generation = { baseKey, keys: new Map(), until: Number.POSITIVE_INFINITY };
		const frameKey = await this.#derive(generation, kid);
		if (this.#current) {
			this.#current.until = this.#now() + PREVIOUS_KEY_MS;
			this.#previous = this.#current;
		}
		this.#current = generation;
		this.#send = { kid, ctr: 0n, frameKey };
	}

	/** Call mode: seals with `baseKey` under `kid` from now on (the page drew the key id and sent both to the others). */
	async setSendKey(baseKey: WebKey, kid: bigint): Promise<void> {
		this.#send = { kid, ctr: 0n, frameKey: await this.#deriveKey(baseKey, kid) };
	}

	/** Call mode: frames of `kid` open with `baseKey`, `sender`'s newest key; its key before opens frames for PREVIOUS_KEY_MS more. */
	addReceiveKey(sender: string, kid: bigint, baseKey: WebKey): void {
		const newest = this.#newest.get(sender);
		if (newest !== undefined && newest !== kid) {
			const before = this.#received.get(newest);
			if (before) {
				before.until = this.#now() + PREVIOUS_KEY_MS;
			}
		}
		this.#newest.set(sender, kid);
		this.#received.set(kid, { sender, frameKey: this.#deriveKey(baseKey, kid), until: Number.POSITIVE_INFINITY });
	}

	/** Call mode: a sender who left; none of its keys opens anything more. */
	forgetSender(sender: string): void {
		this.#newest.delete(sender);
		for (const [kid, key] of this.#received) {
			if (key.sender === sender) {
				this.#received.delete(kid);
			}
		}
	}

	get hasKey(): boolean {
		return this.#current !== undefined;
	}

	/** The key id and counter for the next frame sealed; undefined before the first key. */
	nextSend(): { kid: bigint; ctr: bigint; frameKey: FrameKey } | undefined {
		const send = this.#send;
		if (!send) {
			return undefined;
		}
		const ctr = send.ctr;
		send.ctr++;
		return { kid: send.kid, ctr, frameKey: send.frameKey };
	}

	/**
	 * The frame keys that may open a frame of key id `kid`: a sender's key of
	 * that id, the current base key's, then the previous one's while it lasts.
	 */
	async candidates(kid: bigint): Promise<FrameKey[]> {
		if (this.#previous && this.#previous.until <= this.#now()) {
			this.#previous = undefined;
		}
		const received = this.#received.get(kid);
		if (received && received.until <= this.#now()) {
			this.#received.delete(kid);
		} else if (received) {
			return [await received.frameKey];
		}
		const generations = [this.#current, this.#previous].filter((g): g is Generation => g !== undefined);
		return Promise.all(generations.map((g) => this.#derive(g, kid)));
	}

	#derive(generation: Generation, kid: bigint): Promise<FrameKey> {
		let frameKey = generation.keys.get(kid);
		if (!frameKey) {
			if (generation.keys.size >= KEYS_PER_GENERATION) {
				generation.keys.delete(generation.keys.keys().next().value!);
			}
			frameKey = this.#deriveKey(generation.baseKey, kid);
			generation.keys.set(kid, frameKey);
		}
		return frameKey;
	}
}

/** A new key id: 48 random bits. */
export function randomKid(): bigint {
	const bytes = crypto.getRandomValues(new Uint8Array(6));
	return bytes.reduce((kid, byte) => (kid << 8n) | BigInt(byte), 0n);
}

/** Counters one receiver keeps, per sender, to refuse a frame replayed (RFC 9605, section 9.3). */
const REPLAY_WINDOW = 1024n;

/**
 * The frames a receiver opened, by key id: a counter seen before, or older
 * than REPLAY_WINDOW behind the newest, is refused. The window is wide
 * because a sender's counter runs over all its streams (and simulcast
 * layers), and frames of one stream can arrive a little out of order.
 */
export class ReplayWindow {
	readonly #senders = new Map<bigint, { newest: bigint; seen: Set<bigint> }>();

	/** True when a frame of `kid` with `ctr` was neither seen nor is too old. */
	fresh(kid: bigint, ctr: bigint): boolean {
		const sender = this.#senders.get(kid);
		return !sender || (ctr + REPLAY_WINDOW > sender.newest && !sender.seen.has(ctr));
	}

	/** Records an opened frame (only after it opened: a forged one must not move the window). */
	record(kid: bigint, ctr: bigint): void {
		let sender = this.#senders.get(kid);
		if (!sender) {
			if (this.#senders.size >= 64) {
				this.#senders.delete(this.#senders.keys().next().value!);
			}
			sender = { newest: ctr, seen: new Set() };
			this.#senders.set(kid, sender);
		}
		sender.seen.add(ctr);
		if (ctr > sender.newest) {
			sender.newest = ctr;
		}
		// NOTE: pruned now and then, not on every frame: counters below the window are refused anyway.
		if (sender.seen.size > Number(REPLAY_WINDOW) * 2) {
			for (const old of sender.seen) {
				if (old + REPLAY_WINDOW <= sender.newest) {
					sender.seen.delete(old);
				}
			}
		}
	}
}
