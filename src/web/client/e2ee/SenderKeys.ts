/**
 * A call's sender keys on this page (docs/e2ee.md). This device seals its
 * frames with a sender key of its own, sent to every other participant's
 * device wrapped for that device's identity key (wrap.ts), through the
 * server as opaque bytes (`e2ee.keys`, `e2ee.key`). A new key on every join
 * and leave: whoever left gets none of the next, whoever joined none of the
 * last. It also shows who is who: the call's safety code, and a note or a
 * warning for a device this browser had not seen, or saw with another key.
 */
import type { PeerInfo, ServerEventData } from '../../../signaling/protocol';
import type { CallKeysReport } from '../hookTypes';
import type { Signaling } from '../signaling';
import type { FrameCrypto } from './FrameCrypto';
import { recognize, type DeviceIdentity } from './identity';
import { randomKid } from './KeyRing';
import { safetyCode } from './safetyCode';
import { importBaseKey } from './sframe';
import { importPublicKey, SENDER_KEY_BYTES, unwrapSenderKey, wrapSenderKey, type WrapContext } from './wrap';

/** How long a new key goes out before this page seals with it, so that the others have it first. */
export const SWITCH_DELAY_MS = 300;
/** Joins and leaves this close together make one new key. */
const SETTLE_MS = 50;
/** A key from a peer this page does not know yet (its peer.joined on the way) waits this long. */
const PENDING_MS = 10_000;

type Peer = { id: string; handle: string; deviceId: string; key: string; publicKey: Promise<CryptoKey> };
type Current = { kid: bigint; key: Uint8Array<ArrayBuffer>; madeFor: Set<string> };

export class SenderKeys {
	readonly #peers = new Map<string, Peer>();
	readonly #pending: { data: ServerEventData<'e2ee.key'>; at: number }[] = [];
	readonly #report: CallKeysReport = { keysFrom: [], notes: [], warnings: [], unwrapFailures: 0 };
	#peerId = '';
	#current: Current | undefined;
	#queue: Promise<void> = Promise.resolve();
	#settle: ReturnType<typeof setTimeout> | undefined;
	#askBack = false;
	#closed = false;
	/** The safety code's computations, so that only the newest is shown. */
	#codes = 0;

	constructor(
		private readonly frameCrypto: FrameCrypto,
		private readonly signaling: Signaling,
		private readonly roomId: string,
		/** This account's handle and this browser's device. */
		private readonly me: { handle: string; device: DeviceIdentity },
		private readonly changed: (report: CallKeysReport) => void,
	) {
		signaling.on('e2ee.key', (data) => void this.#received(data));
	}

	get report(): CallKeysReport {
		return this.#report;
	}

	/** This page's peer and the others (after a join or a resume): a new key, and the others are asked for theirs. */
	roster(peerId: string, peers: PeerInfo[]): void {
		this.#peerId = peerId;
		this.#peers.clear();
		for (const peer of peers) {
			this.#add(peer);
		}
		this.#rotate(true);
	}

	peerJoined(peer: PeerInfo): void {
		this.#add(peer);
		this.#rotate(false);
	}

	peerLeft(peerId: string): void {
		if (this.#peers.delete(peerId)) {
			this.frameCrypto.forgetSender(peerId);
			this.#report.keysFrom = this.#report.keysFrom.filter((id) => id !== peerId);
			this.#rotate(false);
		}
	}

	close(): void {
		this.#closed = true;
		clearTimeout(this.#settle);
	}

	#add(info: PeerInfo): void {
		if (!info.identity || !info.handle) {
			return;
		}
		const { deviceId, key } = info.identity;
		this.#peers.set(info.id, { id: info.id, handle: info.handle, deviceId, key, publicKey: importPublicKey(key) });
		const seen = { handle: info.handle, deviceId, key };
		void recognize(this.me.handle, seen).then((recognition) => {
			if (recognition === 'newDevice') {
				this.#report.notes.push(`@${info.handle} is on a device you have not seen before`);
			} else if (recognition === 'changed') {
				this.#report.warnings.push(`The security key of @${info.handle}'s device changed. Compare the safety code with them before you say anything private`);
			}
			this.#peersChanged();
		}).catch((error: Error) => console.warn('switchyard: could not check a device key', error.message));
	}

	/** Makes a new sender key soon: joins and leaves a moment apart make one. */
	#rotate(askBack: boolean): void {
		this.#askBack ||= askBack;
		clearTimeout(this.#settle);
		this.#settle = setTimeout(() => {
			const ask = this.#askBack;
			this.#askBack = false;
			this.#queue = this.#queue.then(() => this.#newKey(ask)).catch((error: Error) => console.error('switchyard: a new sender key failed', error.message));
		}, SETTLE_MS);
		this.#peersChanged();
	}

	async #newKey(askBack: boolean): Promise<void> {
		if (this.#closed) {
			return;
		}
		const kid = randomKid();
		const key = crypto.getRandomValues(new Uint8Array(SENDER_KEY_BYTES));
		const hadOne = this.#current !== undefined;
		const peers = [...this.#peers.values()];
		await this.#send(peers, { kid, key, askBack });
		this.#current = { kid, key, madeFor: new Set(peers.map((p) => p.id)) };
		if (hadOne && peers.length > 0) {
			await new Promise((resolve) => setTimeout(resolve, SWITCH_DELAY_MS));
		}
		await this.frameCrypto.setSendKey(await importBaseKey(key), kid);
		this.#report.sendKid = kid.toString(16);
	}

	async #send(peers: Peer[], senderKey: { kid: bigint; key: Uint8Array<ArrayBuffer>; askBack: boolean }): Promise<void> {
		const keys = await Promise.all(peers.map(async (peer) => ({
			to: peer.id,
			wrapped: await wrapSenderKey(senderKey, this.me.device.privateKey, await peer.publicKey, this.#context(this.#peerId, peer.id, peer, 'out')),
		})));
		if (keys.length > 0) {
			await this.signaling.request('e2ee.keys', { keys }).catch((error: Error) => console.warn('switchyard: sender keys not sent', error.message));
		}
	}

	#context(fromPeer: string, toPeer: string, other: Peer, direction: 'in' | 'out'): WrapContext {
		const mine = { peerId: direction === 'out' ? fromPeer : toPeer, deviceId: this.me.device.deviceId };
		const theirs = { peerId: direction === 'out' ? toPeer : fromPeer, deviceId: other.deviceId };
		return { roomId: this.roomId, from: direction === 'out' ? mine : theirs, to: direction === 'out' ? theirs : mine };
	}

	async #received(data: ServerEventData<'e2ee.key'>): Promise<void> {
		const peer = this.#peers.get(data.from);
		if (!peer) {
			// NOTE: its peer.joined may come after its key (another node's event); kept a while, and tried on the next roster change.
			this.#pending.push({ data, at: Date.now() });
			this.#pending.splice(0, Math.max(0, this.#pending.length - 32));
			return;
		}
		try {
			const opened = await unwrapSenderKey(data.wrapped, this.me.device.privateKey, await peer.publicKey, this.#context(data.from, this.#peerId, peer, 'in'));
			if (!this.#peers.has(peer.id)) {
				return;
			}
			this.frameCrypto.addReceiveKey(peer.id, opened.kid, await importBaseKey(opened.key));
			if (!this.#report.keysFrom.includes(peer.id)) {
				this.#report.keysFrom.push(peer.id);
			}
			// Asked back (it joined or came back): this key, if made while it was here; else the next one goes to it anyway.
			const current = this.#current;
			if (opened.askBack && current?.madeFor.has(peer.id)) {
				await this.#send([peer], { kid: current.kid, key: current.key, askBack: false });
			}
		} catch {
			this.#report.unwrapFailures++;
		}
	}

	/**
	 * The peers, or what this browser makes of one, changed: keys that came
	 * before their sender's peer.joined are tried again, and the safety code
	 * and the notes are shown anew. (Key ids and whose keys this page has are
	 * only in `report`, which the hook reads.)
	 */
	#peersChanged(): void {
		const now = Date.now();
		for (const { data, at } of this.#pending.splice(0)) {
			if (this.#peers.has(data.from)) {
				void this.#received(data);
			} else if (now - at < PENDING_MS) {
				this.#pending.push({ data, at });
			}
		}
		const parties = [{ handle: this.me.handle, deviceId: this.me.device.deviceId, key: this.me.device.publicKey }, ...this.#peers.values()];
		const n = ++this.#codes;
		void safetyCode(parties.map(({ handle, deviceId, key }) => ({ handle, deviceId, key }))).then((code) => {
			if (n === this.#codes && !this.#closed) {
				this.#report.safetyCode = code;
				this.changed(this.#report);
			}
		});
	}
}
