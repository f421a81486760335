/**
 * This browser's device identity and what it remembers of others'
 * (docs/e2ee.md), in IndexedDB:
 * - `devices`: per account signed in here, a device id and a P-256 key pair
 *   whose private key is non-extractable (the page can use it, never read
 *   it), made once and kept across sign-ins;
 * - `known`: per account signed in here, the key each (account, device id)
 *   of the people it called had, first seen: a new device of a known person
 *   is a note, a known device with another key a warning.
 */
import { toBase64url } from './wrap';
import type { WebKey } from './sframe';

const DB = 'switchyard-e2ee';
const VERSION = 1;

export type DeviceIdentity = {
	deviceId: string;
	/** ECDH P-256, non-extractable. */
	privateKey: WebKey;
	/** The raw public key, base64url: what the device publishes. */
	publicKey: string;
};

/** A device in a call, as its peer shows it. */
export type SeenDevice = { handle: string; deviceId: string; key: string };

/** What this browser makes of a device it sees in a call. */
export type Recognition = 'known' | 'first' | 'newDevice' | 'changed';

function request<T>(req: IDBRequest<T>): Promise<T> {
	return new Promise((resolve, reject) => {
		req.onsuccess = () => resolve(req.result);
		req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
	});
}

function openDb(): Promise<IDBDatabase> {
	const req = indexedDB.open(DB, VERSION);
	req.onupgradeneeded = () => {
		req.result.createObjectStore('devices');
		req.result.createObjectStore('known');
	};
	return request(req);
}

async function inStore<T>(store: 'devices' | 'known', mode: IDBTransactionMode, use: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> {
	const db = await openDb();
	try {
		return await request(use(db.transaction(store, mode).objectStore(store)));
	} finally {
		db.close();
	}
}

/** This browser's device for account `owner` (its handle), made on first use. */
export async function deviceIdentity(owner: string): Promise<DeviceIdentity> {
	const kept = await inStore<DeviceIdentity | undefined>('devices', 'readonly', (s) => s.get(owner));
	if (kept) {
		return kept;
	}
	const pair = await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveBits']) as CryptoKeyPair;
	const identity: DeviceIdentity = {
		deviceId: toBase64url(crypto.getRandomValues(new Uint8Array(16))),
		privateKey: pair.privateKey,
		publicKey: toBase64url(new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey))),
	};
	await inStore('devices', 'readwrite', (s) => s.put(identity, owner));
	return identity;
}

/**
 * Compares `seen` with what `owner`'s browser remembers of it and
 * remembers it from now on (a changed key is warned about once, then taken).
 */
export async function recognize(owner: string, seen: SeenDevice): Promise<Recognition> {
	const prefix = `${owner}\n${seen.handle}\n`;
	const id = prefix + seen.deviceId;
	const db = await openDb();
	try {
		const store = db.transaction('known', 'readwrite').objectStore('known');
		const before = await request(store.get(id) as IDBRequest<string | undefined>);
		if (before === seen.key) {
			return 'known';
		}
		const others = await request(store.getAllKeys(IDBKeyRange.bound(prefix, `${prefix}\uffff`)));
		await request(store.put(seen.key, id));
		return before !== undefined ? 'changed' : others.length > 0 ? 'newDevice' : 'first';
	} finally {
		db.close();
	}
}
