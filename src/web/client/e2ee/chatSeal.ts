/**
 * The chat of an end-to-end encrypted room (docs/e2ee.md, "Chat"): each
 * message is sealed on this page with a key the server never has, and sent
 * as `chat.send { sealed }`. The keys are those of the frames, taken as the
 * page hands them to its frame worker (FrameCrypto's `keys` listener), with
 * another HKDF label: a shared secret's base key, or in a call this device's
 * sender key and every other sender's.
 *
 * A message is SFrame's format (sframe.ts) without the clear prefix: header
 * (key id, counter) and AES-128-GCM ciphertext, in base64url. The associated
 * data binds it to the room and to the sender's peer id, which the node
 * writes as `from`: a message the node passes off as another peer's does not
 * open. A counter seen before from a key id is refused (a replay).
 */
import { KeyRing, ReplayWindow } from './KeyRing';
import type { PageMessage } from './messages';
import { deriveFrameKey, open, parseHeader, seal, type FrameKey, type WebKey } from './sframe';
import { fromBase64url, toBase64url } from './wrap';

/** The HKDF label scheme of chat keys: not SFrame's, so no chat key is a frame key. */
export const CHAT_SCHEME = 'Switchyard chat 1.0';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** A key id's chat key from a base key. */
export function deriveChatKey(baseKey: WebKey, kid: bigint): Promise<FrameKey> {
	return deriveFrameKey(baseKey, kid, CHAT_SCHEME);
}

/** What the chat's UI (chat.ts) needs of an encrypted room. */
export type ChatSealer = {
	/** @throws before this page has a key */
	seal(text: string): Promise<string>;
	/** The text of `from`'s message; undefined when it does not open here (another key, changed, replayed). */
	open(from: string, sealed: string): Promise<string | undefined>;
};

export class ChatSeal implements ChatSealer {
	readonly #ring = new KeyRing(undefined, deriveChatKey);
	readonly #replays = new ReplayWindow();
	readonly #roomId: string;
	readonly #peerId: () => string;
	/** Keys being taken, in order: sealing and opening wait for them. */
	#ready: Promise<void> = Promise.resolve();

	/** `peerId`: this page's peer id now (it changes with a fresh join). */
	constructor(roomId: string, peerId: () => string) {
		this.#roomId = roomId;
		this.#peerId = peerId;
	}

	/** A key the page handed its frame worker (FrameCrypto's `keys` listener). */
	take(message: PageMessage): void {
		const ring = this.#ring;
		this.#ready = this.#ready.then(async () => {
			if (message.type === 'key') {
				await ring.setBaseKey(message.baseKey);
			} else if (message.type === 'sendKey') {
				await ring.setSendKey(message.baseKey, message.kid);
			} else if (message.type === 'receiveKey') {
				ring.addReceiveKey(message.sender, message.kid, message.baseKey);
			} else {
				ring.forgetSender(message.sender);
			}
		}).catch((error: Error) => console.warn('switchyard: a chat key failed', error.message));
	}

	async seal(text: string): Promise<string> {
		await this.#ready;
		const send = this.#ring.nextSend();
		if (!send) {
			throw new Error('no key to encrypt with yet: try again in a moment');
		}
		const context = this.#context(this.#peerId());
		const sealed = await seal(send.frameKey, send.kid, send.ctr, context, encoder.encode(text));
		return toBase64url(sealed.subarray(context.length));
	}

	async open(from: string, sealed: string): Promise<string | undefined> {
		await this.#ready;
		try {
			const context = this.#context(from);
			const data = new Uint8Array([...context, ...fromBase64url(sealed)]);
			const header = parseHeader(data, context.length);
			if (!header || !this.#replays.fresh(header.kid, header.ctr)) {
				return undefined;
			}
			for (const frameKey of await this.#ring.candidates(header.kid)) {
				const plaintext = await open(frameKey, data, context.length, header).catch(() => undefined);
				if (plaintext) {
					this.#replays.record(header.kid, header.ctr);
					return decoder.decode(plaintext.subarray(context.length));
				}
			}
		} catch {
			// Not base64url, or not text.
		}
		return undefined;
	}

	/** The associated data besides the header: the room and the sender's peer id. */
	#context(from: string): Uint8Array<ArrayBuffer> {
		return encoder.encode(`Switchyard chat\0${this.#roomId}\0${from}`);
	}
}
