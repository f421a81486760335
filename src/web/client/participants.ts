/**
 * The participant list (in the More panel): everyone in the room, yourself
 * included, with a muted microphone, who is speaking, raised hands (first, in
 * the order they went up) and a pin button for the others. It follows the
 * same sources as the grid: the session's roster and active speaker (room.ts)
 * and the tiles' changes (GridListener.changed: muted, hand, pinned).
 */
import type { PeerInfo } from '../../signaling/protocol';
import type { TileChange } from './Grid';

type Person = { id: string; name: string; local: boolean; muted: boolean; pinned: boolean; handSince: number; joined: number };

/** The grid's key of the local tile until the session has a peer id. */
const LOCAL = 'local';

/** Hands first (longest raised first), then yourself, then in order of arrival. */
export function listOrder(a: Pick<Person, 'local' | 'handSince' | 'joined'>, b: Pick<Person, 'local' | 'handSince' | 'joined'>): number {
	if ((a.handSince > 0) !== (b.handSince > 0)) {
		return a.handSince > 0 ? -1 : 1;
	}
	if (a.handSince !== b.handSince) {
		return a.handSince - b.handSince;
	}
	if (a.local !== b.local) {
		return a.local ? -1 : 1;
	}
	return a.joined - b.joined;
}

export type ParticipantsOptions = {
	/** A remote participant's name; its display name by default. */
	label?(peer: PeerInfo): string;
	/** The list's pin button: pin or unpin that participant's tile. */
	pin(peerId: string, pinned: boolean): void;
	/** How many are in the room (yourself included), for the list's title. */
	count(count: number): void;
};

export class Participants {
	readonly #people = new Map<string, Person>();
	readonly #local: Person;
	#speaking: string | null = null;
	/** Orders arrivals and raised hands. */
	#arrivals = 0;

	constructor(private readonly list: HTMLElement, name: string, private readonly options: ParticipantsOptions) {
		this.#local = this.#person(LOCAL, `${name} (you)`, true);
		this.#render();
	}

	/** The local peer id (a rejoin changes it). */
	setLocalId(peerId: string): void {
		this.#local.id = peerId;
		this.#render();
	}

	/** Exactly these remote participants (after join and after a resume). */
	roster(peers: PeerInfo[]): void {
		const keep = new Set(peers.map((p) => p.id));
		for (const id of [...this.#people.keys()]) {
			if (!keep.has(id)) {
				this.#people.delete(id);
			}
		}
		peers.forEach((peer) => this.add(peer));
	}

	add(peer: PeerInfo): void {
		const name = this.options.label?.(peer) ?? peer.displayName;
		const known = this.#people.get(peer.id);
		if (known) {
			known.name = name;
		} else {
			this.#people.set(peer.id, this.#person(peer.id, name, false));
		}
		this.#render();
	}

	remove(peerId: string): void {
		this.#people.delete(peerId);
		this.#render();
	}

	/** A tile changed (GridListener.changed); the local tile says "local" before the session has its peer id. */
	changed(peerId: string, change: TileChange): void {
		const person = peerId === LOCAL || peerId === this.#local.id ? this.#local : this.#people.get(peerId);
		if (!person) {
			return;
		}
		if (change.muted !== undefined) {
			person.muted = change.muted;
		}
		if (change.pinned !== undefined) {
			person.pinned = change.pinned;
		}
		if (change.hand !== undefined && change.hand !== person.handSince > 0) {
			person.handSince = change.hand ? ++this.#arrivals : 0;
		}
		this.#render();
	}

	/** The room's active speaker (room.activeSpeaker); null: nobody. */
	setSpeaking(peerId: string | null): void {
		this.#speaking = peerId;
		this.#render();
	}

	#person(id: string, name: string, local: boolean): Person {
		return { id, name, local, muted: false, pinned: false, handSince: 0, joined: ++this.#arrivals };
	}

	#render(): void {
		const everyone = [this.#local, ...this.#people.values()].sort(listOrder);
		this.list.replaceChildren(...everyone.map((person) => this.#item(person)));
		this.options.count(everyone.length);
	}

	#item(person: Person): HTMLLIElement {
		const item = document.createElement('li');
		item.dataset.peerId = person.id;
		const speaking = this.#speaking !== null && this.#speaking === person.id;
		for (const [name, on] of [['local', person.local], ['muted', person.muted], ['hand', person.handSince > 0], ['speaking', speaking], ['pinned', person.pinned]] as const) {
			item.classList.toggle(name, on);
		}
		const name = document.createElement('span');
		name.className = 'who';
		name.textContent = person.name;
		const states = document.createElement('span');
		states.className = 'states';
		states.textContent = [person.handSince > 0 ? 'hand raised' : '', speaking ? 'speaking' : '', person.muted ? 'muted' : ''].filter(Boolean).join(' · ');
		item.append(name, states);
		if (!person.local) {
			const pin = document.createElement('button');
			pin.type = 'button';
			pin.className = 'quiet';
			pin.textContent = person.pinned ? 'Unpin' : 'Pin';
			pin.setAttribute('aria-pressed', String(person.pinned));
			pin.setAttribute('aria-label', `${pin.textContent} ${person.name}`);
			pin.addEventListener('click', () => this.options.pin(person.id, !person.pinned));
			item.append(pin);
		}
		return item;
	}
}
