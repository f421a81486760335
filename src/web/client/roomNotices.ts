/**
 * What the room view tells a screen reader (through the announcer,
 * announcer.ts): who is in the call when you join, who joins and leaves, and
 * who is speaking. The room's active speaker (room.activeSpeaker) changes
 * often in a lively call, so a change is said at most once per `gapMs`; one
 * that comes sooner waits for the end of the gap and then says whoever speaks
 * by then (nobody: nothing). Pure apart from the injected clock, and free of
 * DOM types (test/unit/roomNotices.test.ts).
 */

/** The clock's part this uses (the page passes the window's timers; the unit test a fake clock). */
export type NoticeClock = { now(): number; setTimeout(fn: () => void, ms: number): unknown; clearTimeout(timer: unknown): void };

export type SpeakerNoticesOptions = {
	/** Says one line (the announcer). */
	say(text: string): void;
	/** A participant's name, or undefined for one no longer known (then nothing is said). */
	name(peerId: string): string | undefined;
	/** This page's own participant: never said ("you are speaking" is noise), but it counts as a change. */
	isLocal(peerId: string): boolean;
	clock: NoticeClock;
	/** The least time between two lines; 5 s by default. */
	gapMs?: number;
};

export class SpeakerNotices {
	/** Whoever speaks now. */
	#current: string | null = null;
	/** The last speaker said, or the local participant once it spoke after. */
	#said: string | null = null;
	#saidAt = -Infinity;
	#timer: unknown;

	constructor(private readonly o: SpeakerNoticesOptions) {}

	/** The room's active speaker changed (null: nobody). */
	speaker(peerId: string | null): void {
		this.#current = peerId;
		if (peerId !== null && this.o.isLocal(peerId)) {
			// NOTE: no line, but a remote speaker after you is a change worth saying, even the one said last.
			this.#said = peerId;
			this.#cancel();
			return;
		}
		if (peerId === null || peerId === this.#said) {
			this.#cancel();
			return;
		}
		const wait = this.#saidAt + (this.o.gapMs ?? 5000) - this.o.clock.now();
		if (wait <= 0) {
			this.#say();
		} else if (this.#timer === undefined) {
			this.#timer = this.o.clock.setTimeout(() => {
				this.#timer = undefined;
				this.#say();
			}, wait);
		}
	}

	/** The page left the call: nothing more is said. */
	close(): void {
		this.#cancel();
		this.#current = null;
	}

	#say(): void {
		const peerId = this.#current;
		if (peerId === null || peerId === this.#said || this.o.isLocal(peerId)) {
			return;
		}
		const name = this.o.name(peerId);
		if (name === undefined) {
			return;
		}
		this.#said = peerId;
		this.#saidAt = this.o.clock.now();
		this.o.say(`${name} is speaking`);
	}

	#cancel(): void {
		if (this.#timer !== undefined) {
			this.o.clock.clearTimeout(this.#timer);
			this.#timer = undefined;
		}
	}
}

/** The participants as room.ts hears of them. */
type Peer = { id: string; displayName: string };

/** "Ada", "Ada and Bob", "Ada, Bob and Cy". */
export function listNames(names: string[]): string {
	return names.length <= 1 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}

/** Who joined and left, and who speaks (SpeakerNotices), in words. */
export class RoomNotices {
	readonly #names = new Map<string, string>();
	readonly #speaker: SpeakerNotices;
	#localId = '';
	#joined = false;

	constructor(private readonly say: (text: string) => void, clock: NoticeClock, gapMs?: number) {
		this.#speaker = new SpeakerNotices({ say, name: (id) => this.#names.get(id), isLocal: (id) => id === this.#localId, clock, gapMs });
	}

	/** This page's peer id (a rejoin changes it). */
	setLocalId(peerId: string): void {
		this.#localId = peerId;
	}

	/**
	 * Exactly these are in the room: the first time (the join), who they are;
	 * after a reconnection, who came and went meanwhile.
	 */
	roster(peers: Peer[]): void {
		if (!this.#joined) {
			this.#joined = true;
			peers.forEach((peer) => this.#names.set(peer.id, peer.displayName));
			this.say(peers.length === 0 ? 'You joined the call. Nobody else is here yet.' : `You joined the call with ${listNames(peers.map((p) => p.displayName))}.`);
			return;
		}
		const here = new Set(peers.map((p) => p.id));
		[...this.#names.keys()].filter((id) => !here.has(id)).forEach((id) => this.left(id));
		peers.forEach((peer) => this.joined(peer));
	}

	joined(peer: Peer): void {
		if (!this.#names.has(peer.id)) {
			this.#names.set(peer.id, peer.displayName);
			this.say(`${peer.displayName} joined`);
		}
	}

	left(peerId: string): void {
		const name = this.#names.get(peerId);
		if (name !== undefined) {
			this.#names.delete(peerId);
			this.say(`${name} left`);
		}
	}

	/** The room's active speaker (null: nobody). */
	speaker(peerId: string | null): void {
		this.#speaker.speaker(peerId);
	}

	/** This page left the call: a last line, then nothing more. */
	close(): void {
		if (this.#joined) {
			this.#speaker.close();
			this.#joined = false;
			this.#names.clear();
			this.say('You left the call.');
		}
	}
}
